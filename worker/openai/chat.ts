/**
 * `POST /v1/chat/completions`: validate, pick the model, guard the response,
 * answer as one JSON object or as server-sent events.
 */
import type { Context, Handler } from "hono";
import { encodeChatPrompt } from "../../shared/tokenizer/index.js";
import { waitUntilOf, type AppEnv } from "../context.js";
import type { Env } from "../env.js";
import type { GuardSession, ResponseGuard } from "../guard/contract.js";
import type { LoadedModel, ServedModels } from "../model/index.js";
import { readJsonBody } from "./body.js";
import { ApiError } from "./errors.js";
import { startResponse, type ResponseOutcome, type StartedResponse } from "./respond.js";
import { parseChatRequest, type ChatRequest } from "./schema.js";
import { eventStream, SSE_DONE, SSE_HEADERS, sseData } from "./stream.js";

/** Request limits that do not depend on the model. */
export interface ServingLimits {
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  /** Largest max_tokens accepted (the model's context also bounds it). */
  maxTokens: number;
}

/** What the chat handler needs, resolved per request from the environment. */
export interface ChatDeps {
  limits: ServingLimits;
  models: (env: Env) => ServedModels;
  guard: (env: Env) => ResponseGuard | undefined;
}

/** Handler factory for `POST /v1/chat/completions`. */
export function chatCompletions(deps: ChatDeps): Handler<AppEnv> {
  return async function chatCompletionsHandler(c) {
    const request = parseChatRequest(await readJsonBody(c.req.raw, deps.limits.maxBodyBytes));
    if (request.model !== c.env.MODEL_NAME) {
      throw new ApiError(
        404,
        "invalid_request_error",
        `The model '${request.model}' does not exist. Available: ${c.env.MODEL_NAME}.`,
        "model",
        "model_not_found",
      );
    }
    const waitUntil = waitUntilOf(c);
    const loaded = await deps.models(c.env).acquire(waitUntil);
    const promptIds = encodeChatPrompt(loaded.tokenizer, request.messages);
    const maxTokens = completionBudget(request, promptIds.length, loaded.config.n_positions, deps.limits.maxTokens);

    const guard = deps.guard(c.env);
    const session = guard ? await beginGuard(guard, c, loaded, promptIds) : undefined;
    let started: StartedResponse;
    try {
      started = startResponse({
        model: loaded.model,
        tokenizer: loaded.tokenizer,
        promptIds,
        maxTokens,
        temperature: request.topP === 0 ? 0 : request.temperature,
        topP: request.topP === 0 ? 1 : request.topP,
        seed: request.seed ?? randomSeed(),
        stop: request.stop,
        session,
      });
    } catch (e) {
      session?.finish(waitUntil);
      throw e;
    }

    const meta: CompletionMeta = {
      id: `chatcmpl-${c.get("requestId")}`,
      created: Math.floor(Date.now() / 1000),
      model: c.env.MODEL_NAME,
      system_fingerprint: loaded.version,
    };
    c.header("x-model-version", loaded.version);
    const usage = (outcome: ResponseOutcome): Usage => ({
      prompt_tokens: promptIds.length,
      completion_tokens: outcome.completionTokens,
      total_tokens: promptIds.length + outcome.completionTokens,
    });

    if (!request.stream) {
      let content = "";
      let r: IteratorResult<string, ResponseOutcome>;
      try {
        while (!(r = started.pieces.next()).done) content += r.value;
      } finally {
        session?.finish(waitUntil);
      }
      return c.json({
        ...meta,
        object: "chat.completion",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content, refusal: null },
            logprobs: null,
            finish_reason: r.value.finishReason,
          },
        ],
        usage: usage(r.value),
      });
    }

    let phase: "role" | "content" | "done" = "role";
    const chunk = (delta: Record<string, string>, finish_reason: string | null): string =>
      sseData({
        ...meta,
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta, logprobs: null, finish_reason }],
      });
    const body = eventStream({
      next() {
        if (phase === "role") {
          phase = "content";
          return chunk({ role: "assistant", content: "" }, null);
        }
        if (phase === "done") return null;
        const r = started.pieces.next();
        if (!r.done) return chunk({ content: r.value }, null);
        phase = "done";
        let tail = chunk({}, r.value.finishReason);
        if (request.includeUsage)
          tail += sseData({ ...meta, object: "chat.completion.chunk", choices: [], usage: usage(r.value) });
        return tail + SSE_DONE;
      },
      close(cancelled) {
        if (cancelled) started.pieces.return({ finishReason: "stop", completionTokens: 0 });
        session?.finish(waitUntil);
      },
      fail(error) {
        console.error("chat stream failed", error);
        return sseData({
          error: {
            message: "The server had an error while generating the response.",
            type: "server_error",
            param: null,
            code: "internal_error",
          },
        });
      },
    });
    return c.body(body, 200, { ...SSE_HEADERS }); // with the headers set above (request and model ids)
  };
}

interface CompletionMeta {
  id: string;
  created: number;
  model: string;
  system_fingerprint: string;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/**
 * max_tokens for this request: as asked, or as many as fit (capped by `limit`).
 * Throws 400 context_length_exceeded when the prompt leaves no room or the request
 * asks for more than fits, and 400 when it asks for more than `limit`.
 */
export function completionBudget(
  request: Pick<ChatRequest, "maxTokens">,
  promptTokens: number,
  contextTokens: number,
  limit: number,
): number {
  const room = contextTokens - promptTokens;
  if (room < 1) {
    throw ApiError.invalid(
      `This model's maximum context length is ${contextTokens} tokens. However, your messages resulted in ${promptTokens} tokens, which leaves no room for a completion. Please reduce the length of the messages.`,
      "messages",
      "context_length_exceeded",
    );
  }
  const asked = request.maxTokens;
  if (asked === undefined) return Math.min(room, limit);
  if (asked > limit)
    throw ApiError.invalid(
      `'max_tokens' must be at most ${limit}, got ${asked}.`,
      "max_tokens",
      "integer_above_max_value",
    );
  if (asked > room) {
    throw ApiError.invalid(
      `This model's maximum context length is ${contextTokens} tokens. However, you requested ${promptTokens + asked} tokens (${promptTokens} in the messages, ${asked} in the completion). Please reduce the length of the messages or completion.`,
      "max_tokens",
      "context_length_exceeded",
    );
  }
  return asked;
}

async function beginGuard(
  guard: ResponseGuard,
  c: Context<AppEnv>,
  loaded: LoadedModel,
  promptIds: number[],
): Promise<GuardSession> {
  try {
    return await guard.begin({
      requestId: c.get("requestId"),
      promptText: loaded.tokenizer.decode(promptIds),
      modelVersion: loaded.version,
      tokenizer: loaded.tokenizer,
    });
  } catch (e) {
    console.error("guard.begin failed; refusing to serve unguarded", e);
    throw new ApiError(
      503,
      "service_unavailable_error",
      "The response guard is unavailable; please retry.",
      null,
      "guard_unavailable",
    );
  }
}

function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
