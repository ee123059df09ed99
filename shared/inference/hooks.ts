/**
 * Logit hooks ({@link LogitMask}s) for OpenAI's sampling parameters: `logit_bias`,
 * `presence_penalty` and `frequency_penalty`, and a way to chain hooks. They change
 * what is sampled, never the reported log-probabilities (generate() takes those from
 * the model's logits before any hook runs).
 */
import type { LogitMask } from "./generate.js";

/**
 * Adds `bias.get(id)` to token `id`'s logit at every step (OpenAI's `logit_bias`:
 * −100 all but bans a token, +100 all but forces it). Ids outside the logits are ignored
 * (the API refuses them before generation).
 */
export function logitBias(bias: ReadonlyMap<number, number>): LogitMask {
  const entries = [...bias];
  return function logitBiasHook(logits) {
    for (const [id, b] of entries) if (id >= 0 && id < logits.length) logits[id] += b;
  };
}

/** OpenAI's repetition penalties, each in [−2, 2] (0 = off). */
export interface Penalties {
  /** Subtracted once from the logit of every token that occurs in the generated text so far. */
  presence: number;
  /** Subtracted from a token's logit once per occurrence in the generated text so far. */
  frequency: number;
}

/**
 * OpenAI's presence and frequency penalties, as OpenAI defines them:
 *   logit[j] −= c[j] · frequency + (c[j] > 0) · presence
 * where c[j] counts token j among the tokens generated so far (the prompt does not count).
 * Undefined when both are 0 (nothing to do).
 */
export function penalties({ presence, frequency }: Penalties): LogitMask | undefined {
  if (presence === 0 && frequency === 0) return undefined;
  return function penaltiesHook(logits, _step, generated) {
    const seen = new Set<number>();
    for (const t of generated) {
      if (t < 0 || t >= logits.length) continue;
      logits[t] -= frequency;
      if (!seen.has(t)) {
        seen.add(t);
        logits[t] -= presence;
      }
    }
  };
}

/** Runs each defined hook in order; undefined when there is none. */
export function chainMasks(...masks: (LogitMask | undefined)[]): LogitMask | undefined {
  const list = masks.filter((m): m is LogitMask => m !== undefined);
  if (list.length <= 1) return list[0];
  return function chained(logits, step, generated) {
    for (const m of list) m(logits, step, generated);
  };
}
