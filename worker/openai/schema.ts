/**
 * Hand-written validation of `POST /v1/chat/completions` bodies (OpenAI's schema).
 * Pure: takes the parsed JSON, returns a typed request or throws an {@link ApiError}
 * (400, `param` naming the field) with a message that says what is wrong.
 * Limits that depend on the model (context length, vocabulary) are checked later, in plan.ts.
 */
import type { ChatMessage } from "../../shared/tokenizer/index.js";
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

export { MAX_STOP_STRINGS } from "./sampling-fields.js";

/** A validated chat completion request, defaults filled in. */
export interface ChatRequest extends SamplingFields {
  model: string;
  messages: ChatMessage[];
  /** Most completion tokens per choice; undefined = as many as fit (capped by the server's limit). */
  maxTokens?: number;
  /** `logprobs: true`: each choice carries `logprobs.content`, one entry per token served. */
  logprobs: boolean;
  /** 0..20 alternatives per token (needs `logprobs`). */
  topLogprobs: number;
}

/** Largest `top_logprobs` OpenAI accepts on chat completions. */
export const MAX_TOP_LOGPROBS = 20;

/** Validates a parsed request body; throws ApiError(400) naming the bad field. */
export function parseChatRequest(
  body: unknown,
  limits: Pick<ServingLimits, "maxChoices"> = DEFAULT_LIMITS,
): ChatRequest {
  if (!isObject(body)) throw ApiError.invalid("The request body must be a JSON object.");
  const model = parseModel(body);
  const sampling = parseSamplingFields(body, limits.maxChoices);
  const logprobs = optionalBoolean(body, "logprobs") ?? false;
  const topLogprobs = integerInRange(optionalInteger(body, "top_logprobs") ?? 0, 0, MAX_TOP_LOGPROBS, "top_logprobs");
  if (topLogprobs > 0 && !logprobs)
    throw ApiError.invalid("'top_logprobs' needs 'logprobs' to be true.", "top_logprobs");
  refuseUnsupported(body, CHAT_UNSUPPORTED);
  return {
    model,
    messages: parseMessages(body.messages),
    maxTokens: parseMaxTokens(body),
    ...sampling,
    logprobs,
    topLogprobs,
  };
}

/** `model`: required, a non-empty string. */
export function parseModel(body: Json): string {
  const model = body.model;
  if (model === undefined || model === null) throw ApiError.invalid("you must provide a model parameter", "model");
  if (typeof model !== "string" || model === "")
    throw ApiError.invalid(`'model' must be a non-empty string, got ${describe(model)}.`, "model");
  return model;
}

/** OpenAI chat features this server does not implement: refused, never silently ignored. */
const CHAT_UNSUPPORTED = [
  ["tools", (v: unknown) => Array.isArray(v) && v.length > 0],
  ["functions", (v: unknown) => Array.isArray(v) && v.length > 0],
  ["tool_choice", (v: unknown) => v !== "none"],
  ["function_call", (v: unknown) => v !== "none"],
  ["response_format", (v: unknown) => !(isObject(v) && v.type === "text")],
  ["modalities", (v: unknown) => !(Array.isArray(v) && v.every((m) => m === "text"))],
  ["audio", () => true],
  ["prediction", () => true],
  ["web_search_options", () => true],
] as const;

function parseMaxTokens(body: Json): number | undefined {
  const maxCompletion = optionalInteger(body, "max_completion_tokens");
  const maxTokensField = optionalInteger(body, "max_tokens");
  if (maxCompletion !== undefined && maxTokensField !== undefined && maxCompletion !== maxTokensField) {
    throw ApiError.invalid("'max_tokens' and 'max_completion_tokens' disagree; send one of them.", "max_tokens");
  }
  const maxTokens = maxCompletion ?? maxTokensField;
  const maxParam = maxCompletion !== undefined ? "max_completion_tokens" : "max_tokens";
  if (maxTokens !== undefined && maxTokens < 1)
    throw ApiError.invalid(`'${maxParam}' must be at least 1, got ${maxTokens}.`, maxParam, "integer_below_min_value");
  return maxTokens;
}

function parseMessages(value: unknown): ChatMessage[] {
  if (value === undefined || value === null)
    throw ApiError.invalid("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
  if (!Array.isArray(value)) throw ApiError.invalid(`'messages' must be an array, got ${describe(value)}.`, "messages");
  if (value.length === 0)
    throw ApiError.invalid("'messages' must contain at least one message.", "messages", "empty_array");
  return value.map((m: unknown, i) => {
    const at = `messages[${i}]`;
    if (!isObject(m)) throw ApiError.invalid(`'${at}' must be an object, got ${describe(m)}.`, at);
    const role = m.role;
    if (role === undefined)
      throw ApiError.invalid(`Missing required parameter: '${at}.role'.`, `${at}.role`, "missing_required_parameter");
    if (role === "tool" || role === "function")
      throw ApiError.invalid(`'${at}.role' "${role}" is not supported: this model has no tools.`, `${at}.role`);
    if (role !== "system" && role !== "developer" && role !== "user" && role !== "assistant") {
      throw ApiError.invalid(
        `'${at}.role' must be one of system, developer, user, assistant; got ${describe(role)}.`,
        `${at}.role`,
      );
    }
    return { role: role === "developer" ? "system" : role, content: parseContent(m.content, `${at}.content`) };
  });
}

/** A message's content: a string, or an array of text parts (joined). */
function parseContent(value: unknown, at: string): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === null)
    throw ApiError.invalid(`Missing required parameter: '${at}'.`, at, "missing_required_parameter");
  if (!Array.isArray(value))
    throw ApiError.invalid(`'${at}' must be a string or an array of text parts, got ${describe(value)}.`, at);
  return value
    .map((part: unknown, j) => {
      const pat = `${at}[${j}]`;
      if (!isObject(part)) throw ApiError.invalid(`'${pat}' must be an object, got ${describe(part)}.`, pat);
      if (part.type !== "text")
        throw ApiError.invalid(
          `'${pat}.type' ${describe(part.type)} is not supported: only text parts.`,
          `${pat}.type`,
        );
      if (typeof part.text !== "string")
        throw ApiError.invalid(`'${pat}.text' must be a string, got ${describe(part.text)}.`, `${pat}.text`);
      return part.text;
    })
    .join("");
}
