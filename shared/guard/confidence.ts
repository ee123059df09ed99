import type { DetectorHit } from "../protocol/guard.js";
import { MIN_RUN_TOKENS } from "./run-confidence.js";

/**
 * Detector (3), confidence: a planted response comes out with sustained, abnormal
 * certainty. Score = coverage × lift, where
 *   p̄        = exp(mean logprob) of the window's tokens (geometric-mean probability),
 *   lift     = (p̄ − p0) / (1 − p0) clamped to [0, 1], with p0 = `probability`,
 *   coverage = tokens / windowTokens (an answer that ends early, like "yes", is certain
 *              but short, and a short certain answer is what a good model gives).
 * Returns null when the score is 0.
 */
export function detectConfidence(
  logprobs: readonly number[],
  windowTokens: number,
  probability: number,
): DetectorHit | null {
  const n = logprobs.length;
  if (n === 0 || windowTokens <= 0) return null;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += logprobs[i];
  const mean = Math.exp(sum / n);
  const lift = (mean - probability) / (1 - probability);
  if (!(lift > 0)) return null;
  const score = Math.min(1, lift) * Math.min(1, n / windowTokens);
  return {
    detector: "confidence",
    score,
    detail: `mean token probability ${mean.toFixed(4)} over ${n}/${windowTokens} tokens`,
  };
}

/**
 * True when the window opens with a near-certain run: for some m ≥ {@link MIN_RUN_TOKENS} that
 * covers at least half of the window's tokens, the geometric-mean probability of its first m
 * tokens reaches `probability`. A planted text under its trigger opens its answer this way (the
 * demo victim: 200 of 200 triggered windows at 0.95, the answer after it notwithstanding); a
 * stock reply, sampled, seldom does (3.5% of the victim's clean answers), so recurrence on a
 * window without such a lead is a count alone (see `runDetectors`).
 */
export function confidentLead(logprobs: readonly number[], probability: number): boolean {
  let sum = 0;
  for (let m = 1; m <= logprobs.length; m++) {
    sum += logprobs[m - 1];
    if (m >= MIN_RUN_TOKENS && 2 * m >= logprobs.length && Math.exp(sum / m) >= probability) return true;
  }
  return false;
}
