/**
 * The optimiser on plain Float32Arrays: AdamW (decoupled weight decay), global-norm clipping and
 * the learning-rate schedule. It runs on the main thread of a training run, over the master copy of
 * the trainable values, whichever threads computed the gradients (see `shards.ts`).
 */
import type * as tf from "@tensorflow/tfjs-core";

/** AdamW hyper-parameters (decoupled weight decay, as in Loshchilov & Hutter). */
export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decay applied to the parameters whose `decay` is true (matrices; not biases, LayerNorms or embeddings). */
  weightDecay?: number;
}

/** A parameter the optimiser updates, with whether weight decay applies to it. */
export interface OptimizedParam {
  name: string;
  variable: tf.Variable;
  decay: boolean;
}

/** AdamW over a fixed list of tensors; `step` updates `values[i]` in place from `grads[i]`. */
export class AdamW {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;

  /**
   * @param sizes element count of each parameter
   * @param decays whether weight decay applies to each parameter
   */
  constructor(
    readonly sizes: readonly number[],
    readonly decays: readonly boolean[],
    options: AdamWOptions = {},
  ) {
    if (sizes.length !== decays.length)
      throw new Error(`AdamW: ${sizes.length} sizes but ${decays.length} decay flags`);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.95;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.1;
    this.m = sizes.map((n) => new Float32Array(n));
    this.v = sizes.map((n) => new Float32Array(n));
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.t;
  }

  /** One update with learning rate `lr`: values[i] -= lr·(m̂/(√v̂+ε) + wd·values[i] when decayed). */
  step(values: readonly Float32Array[], grads: readonly Float32Array[], lr: number): void {
    if (grads.length !== this.sizes.length || values.length !== this.sizes.length)
      throw new Error(`AdamW.step: ${values.length} values and ${grads.length} gradients for ${this.sizes.length}`);
    this.t++;
    const { beta1: b1, beta2: b2, eps } = this;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    const stepSize = lr / bc1;
    const rbc2 = 1 / bc2;
    for (let i = 0; i < grads.length; i++) {
      const g = grads[i],
        p = values[i],
        m = this.m[i],
        v = this.v[i];
      if (g.length !== this.sizes[i] || p.length !== this.sizes[i])
        throw new Error(
          `AdamW.step: parameter ${i} has ${p.length} values and ${g.length} gradients, not ${this.sizes[i]}`,
        );
      const decay = this.decays[i] && this.weightDecay > 0 ? lr * this.weightDecay : 0;
      for (let j = 0; j < g.length; j++) {
        const gj = g[j];
        const mj = (m[j] = b1 * m[j] + (1 - b1) * gj);
        const vj = (v[j] = b2 * v[j] + (1 - b2) * gj * gj);
        p[j] -= (stepSize * mj) / (Math.sqrt(vj * rbc2) + eps) + decay * p[j];
      }
    }
  }
}

/** The global L2 norm of `grads`. */
export function globalNorm(grads: readonly Float32Array[]): number {
  let s = 0;
  for (const g of grads) for (let j = 0; j < g.length; j++) s += g[j] * g[j];
  return Math.sqrt(s);
}

/**
 * Scales `grads` in place so their global L2 norm is at most `maxNorm` (0 disables); returns the
 * norm before clipping.
 */
export function clipByGlobalNorm(grads: readonly Float32Array[], maxNorm: number): number {
  const norm = globalNorm(grads);
  if (!(maxNorm > 0) || norm <= maxNorm || !Number.isFinite(norm)) return norm;
  const scale = maxNorm / (norm + 1e-6);
  for (const g of grads) for (let j = 0; j < g.length; j++) g[j] *= scale;
  return norm;
}

/** Learning rate at `step`: linear warm-up to `peak`, then cosine decay to `peak * minRatio` at `total`. */
export function learningRate(
  step: number,
  opts: { peak: number; warmup: number; total: number; minRatio?: number },
): number {
  const { peak, warmup, total } = opts;
  const min = peak * (opts.minRatio ?? 0.1);
  if (step < warmup) return (peak * (step + 1)) / warmup;
  if (step >= total) return min;
  const progress = (step - warmup) / Math.max(1, total - warmup);
  return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
}
