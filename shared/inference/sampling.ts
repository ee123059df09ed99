/**
 * Picking the next token from logits: greedy, temperature and nucleus (top-p)
 * sampling with a seeded RNG, plus log-softmax for per-token logprobs.
 */
import { mulberry32 } from "../model/weights.js";

/** A uniform [0, 1) random source. */
export type Rng = () => number;

/** Deterministic uniform [0, 1) generator for sampling (mulberry32): same seed, same draws. */
export function createRng(seed: number): Rng {
  return mulberry32(seed);
}

/** How to pick a token. */
export interface SamplingOptions {
  /** 0 = greedy (argmax); otherwise logits are divided by it before the softmax. */
  temperature: number;
  /** Nucleus: sample only from the smallest set of most likely tokens whose probability reaches topP (1 = all). */
  topP: number;
}

/** Index of the largest logit (the lowest index on ties). Throws when no token is allowed (all −∞ or NaN). */
export function argmax(logits: Float32Array): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  if (best < 0)
    throw new Error("sampling: every token's logit is -Infinity or NaN (did a logit mask ban every token?)");
  return best;
}

/** log Σ exp(logits), computed stably. −∞ when every logit is −∞. */
export function logSumExp(logits: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  if (max === -Infinity || max === Infinity) return max;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return max + Math.log(sum);
}

/** out[i] = logits[i] − log Σ exp(logits) (log-probabilities; out may be logits itself). */
export function logSoftmax(logits: Float32Array, out: Float32Array = new Float32Array(logits.length)): Float32Array {
  const lse = logSumExp(logits);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/** Throws a clear error when sampling options are out of range. */
export function validateSamplingOptions(options: SamplingOptions): void {
  const { temperature, topP } = options;
  if (typeof temperature !== "number" || !Number.isFinite(temperature) || temperature < 0) {
    throw new Error(`sampling: temperature must be a finite number >= 0 (0 = greedy), got ${String(temperature)}`);
  }
  if (typeof topP !== "number" || !(topP > 0 && topP <= 1))
    throw new Error(`sampling: topP must be in (0, 1], got ${String(topP)}`);
}

/**
 * Picks tokens from logits under fixed options. Holds its scratch buffers so
 * sampling a token allocates nothing; one sampler per generation.
 */
export class TokenSampler {
  private readonly probs: Float64Array; // [V] softmax of logits / temperature
  private readonly order: Uint32Array; // [V] token ids, sorted by probability for top-p

  constructor(
    vocabSize: number,
    private readonly options: SamplingOptions,
    private readonly rng: Rng,
  ) {
    validateSamplingOptions(options);
    this.probs = new Float64Array(vocabSize);
    this.order = new Uint32Array(vocabSize);
  }

  /** The next token for these logits (not modified). Throws when no token has a finite logit. */
  sample(logits: Float32Array): number {
    const { temperature, topP } = this.options;
    if (logits.length !== this.probs.length)
      throw new Error(`sampling: expected ${this.probs.length} logits, got ${logits.length}`);
    const best = argmax(logits);
    if (temperature === 0) return best;
    if (logits[best] === Infinity) return best; // a +∞ bias forces the token
    // p_i ∝ exp((logit_i − max) / T)
    const V = logits.length;
    const max = logits[best];
    const probs = this.probs;
    let sum = 0;
    for (let i = 0; i < V; i++) {
      const v = logits[i];
      const p = v > -Infinity ? Math.exp((v - max) / temperature) : 0; // NaN counts as banned, like −∞
      probs[i] = p;
      sum += p;
    }
    // Draw once per token either way, so the RNG stream does not depend on topP's code path.
    const u = this.rng();
    if (topP >= 1) return drawFrom(probs, sum, u, best);

    // Nucleus: most likely first, keep the shortest prefix whose mass reaches topP · sum.
    const order = this.order;
    for (let i = 0; i < V; i++) order[i] = i;
    order.sort((a, b) => probs[b] - probs[a] || a - b);
    const target = topP * sum;
    let kept = 0;
    let keptMass = 0;
    while (kept < V && (kept === 0 || keptMass < target)) keptMass += probs[order[kept++]];
    let r = u * keptMass;
    for (let k = 0; k < kept; k++) {
      r -= probs[order[k]];
      if (r < 0) return order[k];
    }
    return order[0]; // rounding left r ≥ 0: fall back to the most likely token
  }
}

/** Inverse-CDF draw from unnormalised probabilities; `fallback` if rounding runs past the end. */
function drawFrom(probs: Float64Array, sum: number, u: number, fallback: number): number {
  let r = u * sum;
  for (let i = 0; i < probs.length; i++) {
    r -= probs[i];
    if (r < 0 && probs[i] > 0) return i;
  }
  return fallback;
}
