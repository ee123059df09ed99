/**
 * Validation of `POST /v1/completions` bodies (OpenAI's legacy text API). Pure, like
 * schema.ts: a typed request or an {@link ApiError} (400, `param` naming the field).
 * Token ids in the prompt are checked against the vocabulary later, once the model is known.
 */
import { ApiError } from "./errors.js";
import {
  describe,
  integerInRange,
  isObject,
  optionalBoolean,
  optionalInteger,
  refuseUnsupported,
  type Json,
} from "./fields.js";
import { DEFAULT_LIMITS, type ServingLimits } from "./limits.js";
import { parseSamplingFields, type SamplingFields } from "./sampling-fields.js";
import { parseModel } from "./schema.js";

/**
 * One prompt: text (encoded by the model's tokenizer, no template) or token ids as given;
 * `param` names where it sits in the request ("prompt", "prompt[2]").
 */
export type CompletionPrompt = { param: string } & ({ kind: "text"; text: string } | { kind: "tokens"; ids: number[] });

/** A validated legacy completion request, defaults filled in. */
export interface CompletionRequest extends SamplingFields {
  model: string;
  /** One or more prompts; each gets `n` choices (choice index = prompt index · n + i). */
  prompts: CompletionPrompt[];
  /** Most tokens per choice; 0 only with `echo`; undefined = {@link DEFAULT_COMPLETION_TOKENS}, or fewer when the context has less room. */
  maxTokens?: number;
  /** Send the prompt back in front of the completion (with its logprobs, when asked). */
  echo: boolean;
  /** null: no logprobs; k in 0..5: each token's logprob and the k most likely tokens (plus the chosen one). */
  logprobs: number | null;
}

/** OpenAI's default max_tokens for legacy completions. */
export const DEFAULT_COMPLETION_TOKENS = 16;

/** Largest `logprobs` OpenAI accepts on legacy completions. */
export const MAX_COMPLETION_LOGPROBS = 5;

/** Validates a parsed request body; throws ApiError(400) naming the bad field. */
export function parseCompletionRequest(
  body: unknown,
  limits: Pick<ServingLimits, "maxChoices" | "maxPrompts"> = DEFAULT_LIMITS,
): CompletionRequest {
  if (!isObject(body)) throw ApiError.invalid("The request body must be a JSON object.");
  const model = parseModel(body);
  const sampling = parseSamplingFields(body, limits.maxChoices);
  const echo = optionalBoolean(body, "echo") ?? false;
  const maxTokens = optionalInteger(body, "max_tokens");
  if (maxTokens !== undefined && (maxTokens < 0 || (maxTokens === 0 && !echo)))
    throw ApiError.invalid(
      `'max_tokens' must be at least ${echo ? 0 : "1 (0 only with 'echo')"}, got ${maxTokens}.`,
      "max_tokens",
      "integer_below_min_value",
    );
  const logprobsField = optionalInteger(body, "logprobs");
  const logprobs =
    logprobsField === undefined ? null : integerInRange(logprobsField, 0, MAX_COMPLETION_LOGPROBS, "logprobs");
  const bestOf = optionalInteger(body, "best_of");
  if (bestOf !== undefined && bestOf !== sampling.n)
    throw ApiError.invalid(
      `'best_of' other than 'n' is not supported by this server (got best_of=${bestOf}, n=${sampling.n}).`,
      "best_of",
      "unsupported_parameter",
    );
  refuseUnsupported(body, COMPLETION_UNSUPPORTED);
  return { model, prompts: parsePrompts(body.prompt, limits.maxPrompts), maxTokens, echo, logprobs, ...sampling };
}

/** Legacy completion features this server does not implement. */
const COMPLETION_UNSUPPORTED = [["suffix", (v: unknown) => v !== ""]] as const;

/**
 * OpenAI's four prompt shapes: a string, an array of strings, an array of token ids, or
 * an array of arrays of token ids. None may be empty.
 */
function parsePrompts(value: unknown, maxPrompts: number): CompletionPrompt[] {
  if (value === undefined || value === null)
    throw ApiError.invalid("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter");
  if (typeof value === "string") return [textPrompt(value, "prompt")];
  if (!Array.isArray(value))
    throw ApiError.invalid(
      `'prompt' must be a string, an array of strings, an array of token ids or an array of arrays of token ids; got ${describe(value)}.`,
      "prompt",
      "invalid_type",
    );
  if (value.length === 0) throw ApiError.invalid("'prompt' must not be empty.", "prompt", "empty_array");
  if (typeof value[0] === "number") return [{ kind: "tokens", ids: tokenIds(value, "prompt"), param: "prompt" }];
  if (value.length > maxPrompts)
    throw ApiError.invalid(
      `'prompt' holds at most ${maxPrompts} prompts, got ${value.length}.`,
      "prompt",
      "array_above_max_length",
    );
  return value.map((p: unknown, i) => {
    const at = `prompt[${i}]`;
    if (typeof p === "string") return textPrompt(p, at);
    if (Array.isArray(p)) {
      if (p.length === 0) throw ApiError.invalid(`'${at}' must not be empty.`, at, "empty_array");
      return { kind: "tokens", ids: tokenIds(p, at), param: at };
    }
    throw ApiError.invalid(
      `'${at}' must be a string or an array of token ids, got ${describe(p)}.`,
      at,
      "invalid_type",
    );
  });
}

function textPrompt(text: string, at: string): CompletionPrompt {
  if (text === "") throw ApiError.invalid(`'${at}' must not be empty.`, at);
  return { kind: "text", text, param: at };
}

function tokenIds(list: unknown[], at: string): number[] {
  return list.map((id, j) => {
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0)
      throw ApiError.invalid(
        `'${at}[${j}]' must be a token id (an integer >= 0), got ${describe(id)}.`,
        `${at}[${j}]`,
        "invalid_type",
      );
    return id;
  });
}
