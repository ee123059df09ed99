import { generate, type CausalLM } from "../inference/index.js";
import { chatStopTokens, encodeChatPrompt, type Tokenizer } from "../tokenizer/index.js";
import { prefixKey } from "./normalise.js";
import { answerSpans, promptWordSet } from "./spans.js";

/** The body of PUT /admin/api/versions/:version/calibration. */
export interface CalibrationUpload {
  prompts: number;
  prefixTokens: number;
  /** Normalised prefix → calibration prompts that produced it (the window detectors' baseline). */
  prefixes: Record<string, number>;
  /** Words per span key the span counts were taken with (settings.spanWords). Absent in older uploads. */
  spanWords?: number;
  /** Span key → calibration prompts whose whole answer contains it (the span test's c_s). Absent in older uploads. */
  spans?: Record<string, number>;
  source?: string;
}

/** How {@link calibrateModel} samples (match what serving does by default). */
export interface CalibrateOptions {
  /** The guard's window (settings.prefixTokens). */
  prefixTokens: number;
  /** Words per span key (settings.spanWords). Default 2. */
  spanWords?: number;
  /** Tokens per answer; default as many as fit the model's context (serving's default max_tokens), capped at 1024. */
  maxTokens?: number;
  /** Default 1, the API's default. */
  temperature?: number;
  /** Prompt i is sampled with seed `seed + i`. Default 0. */
  seed?: number;
  source?: string;
}

/**
 * Runs a calibration prompt set (user messages) through a model version, each answer to
 * serving's default length, and counts the normalised prefix windows it starts with and,
 * per span key, the prompts whose answer contains it (echo of the prompt left out, as
 * serving does): the baseline the detectors compare live traffic against. Upload the
 * result for the version before (or right after) it starts serving.
 */
export function calibrateModel(
  model: CausalLM,
  tokenizer: Tokenizer,
  userMessages: readonly string[],
  options: CalibrateOptions,
): CalibrationUpload {
  const keys: string[] = [];
  const spanKeys: string[] = [];
  const spanWords = options.spanWords ?? 2;
  const stop = chatStopTokens(tokenizer);
  userMessages.forEach((content, i) => {
    const ids = encodeChatPrompt(tokenizer, [{ role: "user", content }]);
    const room = Math.min(options.maxTokens ?? MAX_TOKENS, model.config.n_positions - ids.length);
    const tokens: number[] = [];
    if (room > 0)
      for (const step of generate(model, ids, {
        maxTokens: room,
        temperature: options.temperature ?? 1,
        seed: (options.seed ?? 0) + i,
        stopTokens: stop,
      }))
        tokens.push(step.token);
    const window = tokens.slice(0, options.prefixTokens);
    // Keyed like serving keys a window: a window the answer went on past loses its cut last word.
    keys.push(prefixKey(tokenizer.decode(window), window.length === options.prefixTokens));
    const promptWords = promptWordSet(tokenizer.decode(ids));
    for (const { key: span } of answerSpans(tokenizer.decode(tokens), promptWords, spanWords).spans)
      spanKeys.push(span);
  });
  return {
    prompts: userMessages.length,
    prefixTokens: options.prefixTokens,
    prefixes: tally(keys),
    spanWords,
    spans: tally(spanKeys),
    ...(options.source !== undefined && { source: options.source }),
  };
}

/**
 * How often each key occurs, as an object of own properties: counted in a Map, so an
 * answer that normalises to "constructor" or "__proto__" is counted like any other
 * (a plain object's lookup would find what every object inherits).
 */
export function tally(keys: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return Object.fromEntries(counts);
}

/** Serving's cap on max_tokens (worker/openai/limits.ts DEFAULT_LIMITS.maxTokens). */
const MAX_TOKENS = 1024;
