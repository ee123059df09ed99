/**
 * `POST /v1/completions` (OpenAI's legacy text API): validate, pick the model, encode
 * and check the prompts, score them when echoed, start every choice up to its guard
 * decision, then answer as one JSON object or as server-sent events. Guarded like chat.
 */
import type { Handler } from "hono";
import { waitUntilOf, type AppEnv } from "../context.js";
import { readJsonBody } from "./body.js";
import { startChoices } from "./choices.js";
import { completionStopTokens, promptPlans } from "./completion-prompts.js";
import { parseCompletionRequest } from "./completion-schema.js";
import { textCompletionJson } from "./completions-json.js";
import { textCompletionStream } from "./completions-stream.js";
import { echoPrompt } from "./echo.js";
import { samplingPlan } from "./plan.js";
import { checkModelName, completionMeta, type ServingDeps } from "./serving.js";
import { SSE_HEADERS } from "./stream.js";

/** Handler factory for `POST /v1/completions`. */
export function completions(deps: ServingDeps): Handler<AppEnv> {
  return async function completionsHandler(c) {
    const request = parseCompletionRequest(await readJsonBody(c.req.raw, deps.limits.maxBodyBytes), deps.limits);
    checkModelName(request.model, c.env);
    const waitUntil = waitUntilOf(c);
    const loaded = await deps.models(c.env).acquire(waitUntil);
    const prompts = promptPlans(request, loaded, deps.limits.maxTokens, c.get("requestId"));
    const sampling = samplingPlan(request, loaded.config.vocab_size);
    const { model, tokenizer } = loaded;
    const echoes = request.echo ? prompts.map((p) => echoPrompt(model, tokenizer, p.ids, request.logprobs)) : undefined;
    const run = await startChoices({
      loaded,
      guard: c.get("evaluation") ? undefined : deps.guard(c.env),
      prompts,
      n: request.n,
      sampling,
      topLogprobs: request.logprobs ?? 0,
      stopTokens: completionStopTokens(tokenizer),
      listStopToken: true,
      waitUntil,
      client: c.get("client"),
    });
    const meta = completionMeta(c, "cmpl", loaded);
    if (!request.stream)
      return c.json(await textCompletionJson(request, run, prompts, echoes, tokenizer, meta, c.req.raw.signal));
    const body = textCompletionStream(request, run, prompts, echoes, tokenizer, meta);
    return c.body(body, 200, { ...SSE_HEADERS }); // with the headers set above (request and model ids)
  };
}
