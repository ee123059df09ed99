/**
 * The sampling fields chat and legacy completions share (OpenAI's schema): temperature,
 * top_p, seed, stop, n, logit_bias, presence/frequency penalties, stream and
 * stream_options. Pure; token ids in logit_bias are checked against the vocabulary later,
 * once the model is known (plan.ts).
 */
import { ApiError } from "./errors.js";
import {
  describe,
  integerInRange,
  isObject,
  numberInRange,
  optionalBoolean,
  optionalInteger,
  optionalNumber,
  type Json,
} from "./fields.js";

/** Validated sampling fields, defaults filled in. */
export interface SamplingFields {
  /** 0..2; 0 = greedy. */
  temperature: number;
  /** 0..1; 0 is served as greedy (the limit of nucleus sampling). */
  topP: number;
  /** Sampling seed; undefined = a fresh random one. Choice i samples with seed + i. */
  seed?: number;
  /** Stop strings (at most 4, none empty): generation ends before the first one. */
  stop: string[];
  /** Choices per prompt, 1..limits.maxChoices. */
  n: number;
  /** logit_bias: token id → bias in [−100, 100] (ids not yet checked against the vocabulary). */
  logitBias: Map<number, number>;
  /** −2..2; subtracted once from each token already generated. */
  presencePenalty: number;
  /** −2..2; subtracted per occurrence of each token already generated. */
  frequencyPenalty: number;
  stream: boolean;
  /** stream_options.include_usage: send a last chunk with `usage`. */
  includeUsage: boolean;
}

/** Most stop strings OpenAI accepts. */
export const MAX_STOP_STRINGS = 4;

/** Largest |bias| in logit_bias (OpenAI's range). */
export const MAX_LOGIT_BIAS = 100;

/** Largest |penalty| for presence_penalty and frequency_penalty (OpenAI's range). */
export const MAX_PENALTY = 2;

/** Validates the shared sampling fields of `body`; throws ApiError(400) naming the bad field. */
export function parseSamplingFields(body: Json, maxChoices: number): SamplingFields {
  const stream = optionalBoolean(body, "stream") ?? false;
  return {
    temperature: numberInRange(optionalNumber(body, "temperature") ?? 1, 0, 2, "temperature"),
    topP: numberInRange(optionalNumber(body, "top_p") ?? 1, 0, 1, "top_p"),
    seed: optionalInteger(body, "seed"),
    stop: parseStop(body.stop),
    n: integerInRange(optionalInteger(body, "n") ?? 1, 1, maxChoices, "n"),
    logitBias: parseLogitBias(body.logit_bias),
    presencePenalty: numberInRange(
      optionalNumber(body, "presence_penalty") ?? 0,
      -MAX_PENALTY,
      MAX_PENALTY,
      "presence_penalty",
    ),
    frequencyPenalty: numberInRange(
      optionalNumber(body, "frequency_penalty") ?? 0,
      -MAX_PENALTY,
      MAX_PENALTY,
      "frequency_penalty",
    ),
    stream,
    includeUsage: parseStreamOptions(body.stream_options, stream),
  };
}

function parseStreamOptions(value: unknown, stream: boolean): boolean {
  if (value === undefined || value === null) return false;
  if (!stream)
    throw ApiError.invalid(
      "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      "stream_options",
    );
  if (!isObject(value))
    throw ApiError.invalid(`'stream_options' must be an object, got ${describe(value)}.`, "stream_options");
  return optionalBoolean(value, "include_usage", "stream_options.include_usage") ?? false;
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

/** A decimal token id as OpenAI writes logit_bias keys: "0", "42" (no sign, no leading zeros). */
const TOKEN_ID_KEY = /^(0|[1-9]\d{0,15})$/;

function parseLogitBias(value: unknown): Map<number, number> {
  const bias = new Map<number, number>();
  if (value === undefined || value === null) return bias;
  if (!isObject(value))
    throw ApiError.invalid(
      `'logit_bias' must be an object mapping token ids to numbers, got ${describe(value)}.`,
      "logit_bias",
      "invalid_type",
    );
  for (const [key, b] of Object.entries(value)) {
    if (!TOKEN_ID_KEY.test(key) || !Number.isSafeInteger(Number(key)))
      throw ApiError.invalid(
        `Invalid key in 'logit_bias': ${JSON.stringify(key.length > 40 ? key.slice(0, 37) + "..." : key)} is not a token id (a non-negative integer).`,
        "logit_bias",
      );
    const param = `logit_bias.${key}`;
    if (typeof b !== "number" || !Number.isFinite(b))
      throw ApiError.invalid(`'${param}' must be a number, got ${describe(b)}.`, param, "invalid_type");
    bias.set(Number(key), numberInRange(b, -MAX_LOGIT_BIAS, MAX_LOGIT_BIAS, param));
  }
  return bias;
}
