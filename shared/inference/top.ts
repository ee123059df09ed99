/**
 * The most likely tokens at one position, as log-probabilities: what OpenAI's
 * `top_logprobs` (chat) and `logprobs: k` (legacy completions) report.
 */

/** A token with its log-probability at one position. */
export interface TokenLogprob {
  token: number;
  /** log p(token), ≤ 0. */
  logprob: number;
}

/**
 * The `k` most likely tokens of `logits` as log-probabilities (`logit − lse`, with `lse`
 * = logSumExp(logits)), most likely first; on ties the lower token id comes first.
 * Non-finite logits (a banned token, NaN) are never listed, so fewer than `k` may come
 * back. k = 0 gives [].
 */
export function topLogprobs(logits: Float32Array, lse: number, k: number): TokenLogprob[] {
  if (!Number.isInteger(k) || k < 0) throw new Error(`topLogprobs: k must be an integer >= 0, got ${String(k)}`);
  const ids: number[] = [];
  for (let i = 0; i < logits.length && k > 0; i++) {
    const v = logits[i];
    if (!Number.isFinite(v)) continue;
    if (ids.length === k && !(v > logits[ids[k - 1]])) continue;
    // Insert after every kept token with a logit ≥ v (so ties keep the lower id first).
    let at = ids.length;
    while (at > 0 && logits[ids[at - 1]] < v) at--;
    ids.splice(at, 0, i);
    if (ids.length > k) ids.pop();
  }
  return ids.map((token) => ({ token, logprob: logits[token] - lse }));
}
