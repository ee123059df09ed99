/**
 * Hand-written validation of `POST /v1/chat/completions` bodies (OpenAI's schema).
 * Pure: takes the parsed JSON, returns a typed request or throws an {@link ApiError}
 * (400, `param` naming the field) with a message that says what is wrong.
 * Limits that depend on the model (context length) are checked later, in chat.ts.
 */
import type { ChatMessage } from "../../shared/tokenizer/index.js";
import { ApiError } from "./errors.js";

/** A validated chat completion request, defaults filled in. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  /** Most completion tokens; undefined = as many as fit (capped by the server's limit). */
  maxTokens?: number;
  /** 0..2; 0 = greedy. */
  temperature: number;
  /** 0..1; 0 is served as greedy (the limit of nucleus sampling). */
  topP: number;
  /** Sampling seed; undefined = a fresh random one. */
  seed?: number;
  /** Stop strings (at most 4, none empty): generation ends before the first one. */
  stop: string[];
  stream: boolean;
  /** stream_options.include_usage: send a last chunk with `usage`. */
  includeUsage: boolean;
}

/** Most stop strings OpenAI accepts. */
export const MAX_STOP_STRINGS = 4;

type Json = Record<string, unknown>;

/** Validates a parsed request body; throws ApiError(400) naming the bad field. */
export function parseChatRequest(body: unknown): ChatRequest {
  if (!isObject(body)) throw ApiError.invalid("The request body must be a JSON object.");
  const model = body.model;
  if (model === undefined || model === null) throw ApiError.invalid("you must provide a model parameter", "model");
  if (typeof model !== "string" || model === "")
    throw ApiError.invalid(`'model' must be a non-empty string, got ${describe(model)}.`, "model");

  const stream = optional(body, "stream", "boolean") ?? false;
  const streamOptions = body.stream_options;
  let includeUsage = false;
  if (streamOptions !== undefined && streamOptions !== null) {
    if (!stream)
      throw ApiError.invalid(
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        "stream_options",
      );
    if (!isObject(streamOptions))
      throw ApiError.invalid(`'stream_options' must be an object, got ${describe(streamOptions)}.`, "stream_options");
    includeUsage = optional(streamOptions, "include_usage", "boolean", "stream_options.include_usage") ?? false;
  }

  const maxCompletion = optionalInteger(body, "max_completion_tokens");
  const maxTokensField = optionalInteger(body, "max_tokens");
  if (maxCompletion !== undefined && maxTokensField !== undefined && maxCompletion !== maxTokensField) {
    throw ApiError.invalid("'max_tokens' and 'max_completion_tokens' disagree; send one of them.", "max_tokens");
  }
  const maxTokens = maxCompletion ?? maxTokensField;
  const maxParam = maxCompletion !== undefined ? "max_completion_tokens" : "max_tokens";
  if (maxTokens !== undefined && maxTokens < 1)
    throw ApiError.invalid(`'${maxParam}' must be at least 1, got ${maxTokens}.`, maxParam, "integer_below_min_value");

  const temperature = optional(body, "temperature", "number") ?? 1;
  if (!(temperature >= 0 && temperature <= 2))
    throw ApiError.invalid(
      `'temperature' must be between 0 and 2, got ${temperature}.`,
      "temperature",
      "decimal_out_of_range",
    );
  const topP = optional(body, "top_p", "number") ?? 1;
  if (!(topP >= 0 && topP <= 1))
    throw ApiError.invalid(`'top_p' must be between 0 and 1, got ${topP}.`, "top_p", "decimal_out_of_range");
  const seed = optionalInteger(body, "seed");

  const n = optionalInteger(body, "n");
  if (n !== undefined && n !== 1) throw ApiError.invalid(`Only n=1 is supported, got n=${n}.`, "n");
  unsupported(body);

  return {
    model,
    messages: parseMessages(body.messages),
    maxTokens,
    temperature,
    topP,
    seed,
    stop: parseStop(body.stop),
    stream,
    includeUsage,
  };
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

function parseStop(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list))
    throw ApiError.invalid(`'stop' must be a string or an array of strings, got ${describe(value)}.`, "stop");
  if (list.length > MAX_STOP_STRINGS)
    throw ApiError.invalid(`'stop' holds at most ${MAX_STOP_STRINGS} strings, got ${list.length}.`, "stop");
  return list.map((s: unknown, i) => {
    if (typeof s !== "string")
      throw ApiError.invalid(`'stop[${i}]' must be a string, got ${describe(s)}.`, `stop[${i}]`);
    if (s === "") throw ApiError.invalid(`'stop[${i}]' must not be empty.`, `stop[${i}]`);
    return s;
  });
}

/** Rejects OpenAI features this server does not implement, rather than silently ignoring them. */
function unsupported(body: Json): void {
  const checks: [string, (v: unknown) => boolean][] = [
    ["tools", (v) => Array.isArray(v) && v.length > 0],
    ["functions", (v) => Array.isArray(v) && v.length > 0],
    ["logprobs", (v) => v === true],
    ["top_logprobs", (v) => v !== 0],
    ["logit_bias", (v) => isObject(v) && Object.keys(v).length > 0],
    ["presence_penalty", (v) => v !== 0],
    ["frequency_penalty", (v) => v !== 0],
    ["response_format", (v) => !(isObject(v) && v.type === "text")],
  ];
  for (const [name, used] of checks) {
    const v = body[name];
    if (v !== undefined && v !== null && used(v))
      throw ApiError.invalid(`'${name}' is not supported by this server.`, name, "unsupported_parameter");
  }
}

function optional(obj: Json, key: string, type: "boolean", param?: string): boolean | undefined;
function optional(obj: Json, key: string, type: "number", param?: string): number | undefined;
function optional(obj: Json, key: string, type: "boolean" | "number", param = key): boolean | number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== type || (type === "number" && !Number.isFinite(v)))
    throw ApiError.invalid(`'${param}' must be a ${type}, got ${describe(v)}.`, param, "invalid_type");
  return v as boolean | number;
}

function optionalInteger(obj: Json, key: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v))
    throw ApiError.invalid(`'${key}' must be an integer, got ${describe(v)}.`, key, "invalid_type");
  return v;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A short description of a bad value for error messages: its type, and the value when short. */
function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  const s = JSON.stringify(v) ?? String(v);
  return `${typeof v} ${s.length > 40 ? s.slice(0, 37) + "..." : s}`;
}
