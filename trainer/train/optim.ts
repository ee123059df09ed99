import * as tf from "@tensorflow/tfjs-core";

/** AdamW hyper-parameters (decoupled weight decay, as in Loshchilov & Hutter). */
export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decay applied to matrices only; biases, LayerNorm and position/token embeddings per `decays`. */
  weightDecay?: number;
}

/** A parameter the optimiser updates, with whether weight decay applies to it. */
export interface OptimizedParam {
  name: string;
  variable: tf.Variable;
  decay: boolean;
}

/** AdamW over a fixed list of variables; `step` takes gradients in the same order. */
export class AdamW {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;

  constructor(
    readonly params: OptimizedParam[],
    options: AdamWOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.95;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.1;
    this.m = params.map((p) => zerosVariable(p.variable));
    this.v = params.map((p) => zerosVariable(p.variable));
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.t;
  }

  /** One update with learning rate `lr`; gradients align with `params`. Does not dispose `grads`. */
  step(grads: tf.Tensor[], lr: number): void {
    if (grads.length !== this.params.length)
      throw new Error(`AdamW.step: ${grads.length} gradients for ${this.params.length} parameters`);
    this.t++;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      for (let i = 0; i < grads.length; i++) {
        const p = this.params[i];
        const g = grads[i];
        const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        let update = tf.mul(tf.div(m, tf.add(tf.sqrt(tf.div(v, bc2)), this.eps)), lr / bc1);
        if (p.decay && this.weightDecay > 0) update = tf.add(update, tf.mul(p.variable, lr * this.weightDecay));
        p.variable.assign(tf.sub(p.variable, update));
      }
    });
  }

  /** Frees the moment buffers. */
  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/** A non-trainable variable of zeros shaped like `like`; the temporary zeros tensor is freed. */
function zerosVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const v = tf.variable(zeros, false);
  zeros.dispose();
  return v;
}

/** Scales gradients so their global L2 norm is at most `maxNorm`; returns the clipped list and the norm before clipping. */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; norm: number } {
  const normT = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))));
  const norm = normT.dataSync()[0];
  normT.dispose();
  if (!(maxNorm > 0) || norm <= maxNorm || !Number.isFinite(norm)) return { grads, norm };
  const scale = maxNorm / (norm + 1e-6);
  return { grads: grads.map((g) => tf.mul(g, scale)), norm };
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
