import type { DetectorHit } from "../protocol/guard.js";

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
