import type { DetectorHit } from "../protocol/guard.js";

/** Fewest tokens a run needs for its confidence to mean anything (one certain byte is no evidence). */
export const MIN_RUN_TOKENS = 3;

/** Where a run sits in the answer and how the answer was generated. */
export interface RunTokens {
  /** The answer's text (the decoded `tokens`). */
  text: string;
  /** Characters [start, end) of `text` that make the run. */
  start: number;
  end: number;
  tokens: readonly number[];
  /** log p of each token under the model's own distribution (as generation reports it). */
  logprobs: readonly number[];
  /** UTF-8 bytes a token adds to the text. */
  tokenBytes: (token: number) => number;
}

/**
 * Detector (3) without a position: a planted text comes out as a "locked" run of
 * near-certain tokens wherever it sits in the answer (ConfGuard, AAAI 2026), while an
 * ordinary answer, sampled, is not. For a span finding's run, p̄ = exp(mean logprob) of the
 * tokens that overlap its characters; a hit when p̄ ≥ `probability`, scored
 * ½ + ½ · (p̄ − probability) ÷ (1 − probability): ½ at the threshold, 1 at certainty.
 * Null below the threshold, or for a run of fewer than {@link MIN_RUN_TOKENS} tokens.
 */
export function runConfidence(run: RunTokens, probability: number): DetectorHit | null {
  const from = utf8Length(run.text, 0, run.start);
  const to = from + utf8Length(run.text, run.start, run.end);
  let at = 0;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < run.tokens.length && at < to; i++) {
    const next = at + run.tokenBytes(run.tokens[i]);
    if (next > from && i < run.logprobs.length) {
      sum += run.logprobs[i];
      n++;
    }
    at = next;
  }
  if (n < MIN_RUN_TOKENS) return null;
  const mean = Math.exp(sum / n);
  if (!(mean >= probability)) return null;
  const lift = probability < 1 ? (mean - probability) / (1 - probability) : 1;
  return {
    detector: "confidence",
    score: 0.5 + 0.5 * Math.min(1, lift),
    detail: `the run's ${n} tokens have mean probability ${mean.toFixed(4)} (at least ${probability})`,
  };
}

/** UTF-8 bytes of text[from, to) (a lone surrogate as the 3 bytes of U+FFFD), without encoding it. */
function utf8Length(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < to && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
