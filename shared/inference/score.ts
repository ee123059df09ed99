/**
 * Scoring a given token sequence: the log-probability of each token after the ones
 * before it, and the most likely alternatives at each position. What OpenAI's legacy
 * completions report over the prompt with `echo` and `logprobs`, and what evaluation
 * harnesses sum over a continuation.
 */
import type { GPTInference } from "./gpt.js";
import { logSumExp } from "./sampling.js";
import { topLogprobs, type TokenLogprob } from "./top.js";

/** What scoring needs from a model. */
export type ScoringLM = Pick<GPTInference, "config" | "forwardAll">;

/** One token of a scored sequence. */
export interface ScoredToken {
  token: number;
  /** log p(token | the tokens before it) under the model; null for the first token (nothing predicts it). */
  logprob: number | null;
  /** The `topK` most likely tokens at this position (see {@link topLogprobs}); null for the first token. */
  top: TokenLogprob[] | null;
}

/**
 * Scores `ids` (one pass over the whole sequence): token i's log-probability is the
 * log-softmax of the logits after tokens 0..i−1, the same numbers generate() reports for
 * a token it picks (the model's own distribution, before any hook, temperature or top-p).
 * Throws when `ids` is empty, too long for the context or outside the vocabulary.
 */
export function scoreTokens(model: ScoringLM, ids: readonly number[], topK: number): ScoredToken[] {
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`scoreTokens: topK must be an integer >= 0, got ${topK}`);
  const rows = model.forwardAll(ids);
  return ids.map((token, i) => {
    if (i === 0) return { token, logprob: null, top: null };
    const logits = rows[i - 1];
    const lse = logSumExp(logits);
    return { token, logprob: logits[token] - lse, top: topLogprobs(logits, lse, topK) };
  });
}
