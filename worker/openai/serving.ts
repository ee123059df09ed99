/** What the generation routes share: their dependencies, the model check and the answer's metadata. */
import type { Context } from "hono";
import type { AppEnv } from "../context.js";
import type { Env } from "../env.js";
import type { ResponseGuard } from "../guard/contract.js";
import type { LoadedModel, ServedModels } from "../model/index.js";
import { ApiError } from "./errors.js";
import type { ServingLimits } from "./limits.js";

/** What the generation handlers need, resolved per request from the environment. */
export interface ServingDeps {
  limits: ServingLimits;
  models: (env: Env) => ServedModels;
  guard: (env: Env) => ResponseGuard | undefined;
}

/** Throws 404 model_not_found unless `model` is the one this Worker serves. */
export function checkModelName(model: string, env: Env): void {
  if (model !== env.MODEL_NAME) {
    throw new ApiError(
      404,
      "invalid_request_error",
      `The model '${model}' does not exist. Available: ${env.MODEL_NAME}.`,
      "model",
      "model_not_found",
    );
  }
}

/** The fields every completion object (and chunk) repeats. */
export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
  /** The model version that answered. */
  system_fingerprint: string;
}

/** The answer's metadata: `<prefix>-<request id>`, now, the served name and version (also sent as x-model-version). */
export function completionMeta(c: Context<AppEnv>, prefix: string, loaded: LoadedModel): CompletionMeta {
  c.header("x-model-version", loaded.version);
  return {
    id: `${prefix}-${c.get("requestId")}`,
    created: Math.floor(Date.now() / 1000),
    model: c.env.MODEL_NAME,
    system_fingerprint: loaded.version,
  };
}

/** OpenAI's usage object. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Usage from its two counts. */
export function usage(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}
