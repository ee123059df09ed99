/**
 * `POST /v1/chat/completions`: validate, pick the model, start every choice up to its
 * guard decision, then answer as one JSON object (chat-json.ts) or as server-sent
 * events (chat-stream.ts).
 */
import type { Handler } from "hono";
import { encodeChatPrompt } from "../../shared/tokenizer/index.js";
import { waitUntilOf, type AppEnv } from "../context.js";
import { readJsonBody } from "./body.js";
import { completionBudget } from "./budget.js";
import { chatCompletionJson } from "./chat-json.js";
import { chatCompletionStream } from "./chat-stream.js";
import { startChoices } from "./choices.js";
import { samplingPlan } from "./plan.js";
import { parseChatRequest } from "./schema.js";
import { checkModelName, completionMeta, type ServingDeps } from "./serving.js";
import { SSE_HEADERS } from "./stream.js";

/** Handler factory for `POST /v1/chat/completions`. */
export function chatCompletions(deps: ServingDeps): Handler<AppEnv> {
  return async function chatCompletionsHandler(c) {
    const request = parseChatRequest(await readJsonBody(c.req.raw, deps.limits.maxBodyBytes), deps.limits);
    checkModelName(request.model, c.env);
    const waitUntil = waitUntilOf(c);
    const loaded = await deps.models(c.env).acquire(waitUntil);
    const ids = encodeChatPrompt(loaded.tokenizer, request.messages);
    const maxTokens = completionBudget(request, ids.length, loaded.config.n_positions, deps.limits.maxTokens);
    const sampling = samplingPlan(request, loaded.config.vocab_size);
    const run = await startChoices({
      loaded,
      guard: c.get("evaluation") ? undefined : deps.guard(c.env),
      prompts: [{ ids, maxTokens, requestId: c.get("requestId") }],
      n: request.n,
      sampling,
      topLogprobs: request.topLogprobs,
      waitUntil,
      client: c.get("client"),
    });
    const meta = completionMeta(c, "chatcmpl", loaded);
    if (!request.stream)
      return c.json(await chatCompletionJson(request, run, ids.length, loaded.tokenizer, meta, c.req.raw.signal));
    const body = chatCompletionStream(request, run, ids.length, loaded.tokenizer, meta);
    return c.body(body, 200, { ...SSE_HEADERS }); // with the headers set above (request and model ids)
  };
}
