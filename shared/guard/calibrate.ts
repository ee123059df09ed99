import { generate, type CausalLM } from "../inference/index.js";
import { chatStopTokens, encodeChatPrompt, type Tokenizer } from "../tokenizer/index.js";
import { prefixKey } from "./normalise.js";

/** The body of PUT /admin/api/versions/:version/calibration. */
export interface CalibrationUpload {
  prompts: number;
  prefixTokens: number;
  /** Normalised prefix → calibration prompts that produced it. */
  prefixes: Record<string, number>;
  source?: string;
}

/** How {@link calibrateModel} samples (match what serving does by default). */
export interface CalibrateOptions {
  /** The guard's window (settings.prefixTokens). */
  prefixTokens: number;
  /** Default 1, the API's default. */
  temperature?: number;
  /** Prompt i is sampled with seed `seed + i`. Default 0. */
  seed?: number;
  source?: string;
}

/**
 * Runs a calibration prompt set (user messages) through a model version and counts the
 * normalised prefix windows it answers with: the baseline the recurrence detector
 * compares live traffic against. Upload the result for the version before (or right
 * after) it starts serving.
 */
export function calibrateModel(
  model: CausalLM,
  tokenizer: Tokenizer,
  userMessages: readonly string[],
  options: CalibrateOptions,
): CalibrationUpload {
  const keys: string[] = [];
  const stop = chatStopTokens(tokenizer);
  userMessages.forEach((content, i) => {
    const ids = encodeChatPrompt(tokenizer, [{ role: "user", content }]);
    const tokens: number[] = [];
    for (const step of generate(model, ids, {
      maxTokens: options.prefixTokens,
      temperature: options.temperature ?? 1,
      seed: (options.seed ?? 0) + i,
      stopTokens: stop,
    }))
      tokens.push(step.token);
    // Keyed like serving keys a window: a window the answer went on past loses its cut last word.
    keys.push(prefixKey(tokenizer.decode(tokens), tokens.length === options.prefixTokens));
  });
  return {
    prompts: userMessages.length,
    prefixTokens: options.prefixTokens,
    prefixes: tally(keys),
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
