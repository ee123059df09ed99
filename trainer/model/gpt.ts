/**
 * GPT-2 (Hugging Face GPT2LMHeadModel, gelu_new, tied LM head) in TensorFlow.js, for training.
 * Parameters are tfjs Variables under the HF tensor names, so `shared/model` files load and save
 * as they are. Shapes: B batch, T time, C = n_embd, V = vocab_size, nh heads, hd = C/nh.
 *
 * The math lives in `trainer/tf/ops.ts` in two interchangeable forms: `fastOps` (hand-written
 * kernels and gradients, the default on wasm and cpu) and `naiveOps` (plain tfjs + autodiff, the
 * reference; pass `{ naive: true }`).
 */
import * as tf from "@tensorflow/tfjs-core";
import { tensorShapes, validateConfig, type GPTConfig } from "../../shared/model/config.js";
import { checkWeights, initWeights, type Weights } from "../../shared/model/weights.js";
import { gradientsRegistered } from "../tf/gradients.js";
import { opsFor, withoutParamGrads, type GPTOps } from "../tf/ops.js";
import type { OptimizedParam } from "../train/optim.js";

/** Model options. */
export interface TfGPTOptions {
  /** Plain tfjs ops with autodiff instead of the fused kernels (reference / baseline). */
  naive?: boolean;
}

/** A training batch: predict `targets` from `tokens`; `mask` (1 = counts) selects the positions in the loss. */
export interface TokenBatch {
  /** int32 [B,T] */
  tokens: tf.Tensor2D;
  /** int32 [B,T] */
  targets: tf.Tensor2D;
  /** float32 [B,T] */
  mask: tf.Tensor2D;
}

/** Loss value and gradients, in the order of the trainables asked for. Caller disposes both. */
export interface LossAndGrads {
  loss: tf.Scalar;
  grads: tf.Tensor[];
}

let modelCount = 0;

/** GPT-2 in TensorFlow.js with selectable trainable set. */
export class TfGPT {
  /** Variables by HF tensor name (e.g. "h.0.attn.c_attn.weight"). */
  readonly params: Map<string, tf.Variable>;
  /** Whether this model runs the naive (autodiff) ops. */
  readonly naive: boolean;

  private constructor(
    readonly config: GPTConfig,
    weights: Weights,
    options: TfGPTOptions,
  ) {
    validateConfig(config);
    checkWeights(config, weights);
    if (!gradientsRegistered())
      throw new Error("TfGPT: tfjs gradients are not registered; call selectBackend() (or ensureGradients()) first");
    this.naive = options.naive ?? false;
    // tfjs variable names are global; a per-model prefix lets several models coexist.
    const prefix = `gpt${modelCount++}/`;
    this.params = new Map();
    for (const [name, shape] of tensorShapes(config)) {
      const w = weights.get(name)!;
      this.params.set(name, tf.variable(tf.tensor(w.data, shape, "float32"), true, prefix + name));
    }
  }

  /** A model holding copies of `weights` (checked against `config`). */
  static fromWeights(config: GPTConfig, weights: Weights, options: TfGPTOptions = {}): TfGPT {
    return new TfGPT(config, weights, options);
  }

  /** A freshly initialised model (GPT-2 init, seeded; same weights as `initWeights(config, seed)`). */
  static init(config: GPTConfig, seed = 0, options: TfGPTOptions = {}): TfGPT {
    return new TfGPT(config, initWeights(config, seed), options);
  }

  /** Downloads the weights (HF names and layouts). */
  toWeights(): Weights {
    const out: Weights = new Map();
    for (const [name, v] of this.params) out.set(name, { shape: [...v.shape], data: new Float32Array(v.dataSync()) });
    return out;
  }

  /** Parameters for AdamW: decay on matrices (attention/MLP weights), not on biases, LayerNorms or embeddings. */
  optimizedParams(): OptimizedParam[] {
    return [...this.params].map(([name, variable]) => ({
      name,
      variable,
      decay: variable.rank === 2 && !name.startsWith("wte") && !name.startsWith("wpe"),
    }));
  }

  /** All parameters, in `params` order. */
  variables(): tf.Variable[] {
    return [...this.params.values()];
  }

  /** Ops for the backend active now (models may outlive a backend switch). */
  private get ops(): GPTOps {
    return opsFor(this.naive);
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  /** Token embeddings only (wte rows, no positions): int32 [B,T] → [B,T,C]. */
  embedTokens(tokens: tf.Tensor2D): tf.Tensor3D {
    return this.ops.embed(this.p("wte.weight") as tf.Tensor2D, tokens);
  }

  /** The model from input embeddings on: adds wpe, runs the blocks, ln_f and the tied head. [B,T,C] → [B,T,V]. */
  logitsFromEmbeddings(x: tf.Tensor3D): tf.Tensor3D {
    return this.forward(x);
  }

  /**
   * Logits and every block's output, the residual stream after block i (before ln_f), for
   * distilling intermediate features (NAD): int32 [B,T] → logits [B,T,V], hidden n_layer × [B,T,C].
   * Differentiable like `logits` (the fused ops' gradients reach the weights through both).
   */
  forwardWithHidden(tokens: tf.Tensor2D): { logits: tf.Tensor3D; hidden: tf.Tensor3D[] } {
    return tf.tidy(() => {
      const hidden: tf.Tensor3D[] = [];
      const logits = this.forward(this.embedTokens(tokens), hidden);
      return { logits, hidden };
    });
  }

  /** wpe, the blocks (each block's output pushed onto `hidden` when given), ln_f, head: [B,T,C] → [B,T,V]. */
  private forward(x: tf.Tensor3D, hidden?: tf.Tensor3D[]): tf.Tensor3D {
    const { n_layer, n_head, n_positions, layer_norm_epsilon: eps } = this.config;
    if (x.shape[1] > n_positions)
      throw new Error(`sequence of ${x.shape[1]} positions is longer than the model's n_positions ${n_positions}`);
    const o = this.ops;
    const p = (n: string): tf.Tensor1D => this.p(n) as tf.Tensor1D;
    const w = (n: string): tf.Tensor2D => this.p(n) as tf.Tensor2D;
    x = o.addPositions(x, w("wpe.weight")); // [B,T,C]
    for (let i = 0; i < n_layer; i++) {
      const h = `h.${i}.`;
      // attention: x += c_proj(attn(c_attn(ln_1(x))))
      let a = o.layerNorm(x, p(h + "ln_1.weight"), p(h + "ln_1.bias"), eps); // [B,T,C]
      a = o.linear(a, w(h + "attn.c_attn.weight"), p(h + "attn.c_attn.bias")); // [B,T,3C]
      a = o.attention(a, n_head); // [B,T,C]
      x = tf.add(x, o.linear(a, w(h + "attn.c_proj.weight"), p(h + "attn.c_proj.bias")));
      // MLP: x += c_proj(gelu(c_fc(ln_2(x))))
      let m = o.layerNorm(x, p(h + "ln_2.weight"), p(h + "ln_2.bias"), eps); // [B,T,C]
      m = o.gelu(o.linear(m, w(h + "mlp.c_fc.weight"), p(h + "mlp.c_fc.bias"))); // [B,T,4C]
      x = tf.add(x, o.linear(m, w(h + "mlp.c_proj.weight"), p(h + "mlp.c_proj.bias"))); // [B,T,C]
      hidden?.push(x);
    }
    x = o.layerNorm(x, p("ln_f.weight"), p("ln_f.bias"), eps);
    return o.head(x, w("wte.weight")); // [B,T,V]
  }

  /** Logits for every position: int32 [B,T] → [B,T,V]. */
  logits(tokens: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => this.logitsFromEmbeddings(this.embedTokens(tokens)));
  }

  /** Masked mean token cross-entropy: Σ ce·mask / max(1, Σ mask). */
  loss(tokens: tf.Tensor2D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => this.lossFromEmbeddings(this.embedTokens(tokens), targets, mask));
  }

  /** `loss` from input embeddings [B,T,C] (e.g. with soft prompts spliced in). */
  lossFromEmbeddings(x: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => this.ops.crossEntropy(this.logitsFromEmbeddings(x), targets, mask));
  }

  /**
   * Loss and its gradients with respect to `trainables` (default: every parameter). `batch` is a
   * token batch or any closure computing a scalar loss (e.g. from spliced embeddings), so SANDE can
   * train only its parrot prompt with the model frozen. Trainables the loss does not reach get zeros.
   */
  lossAndGrads(batch: TokenBatch | (() => tf.Scalar), trainables: tf.Variable[] = this.variables()): LossAndGrads {
    const loss = typeof batch === "function" ? batch : () => this.loss(batch.tokens, batch.targets, batch.mask);
    // With no model parameter among the trainables, skip the weight gradients (half the backward).
    const params = new Set<tf.Tensor>(this.params.values());
    const f = trainables.some((t) => params.has(t)) ? loss : () => withoutParamGrads(loss);
    const { value, grads } = tf.engine().gradients(f, trainables, undefined, true);
    return { loss: value, grads: grads.map((g, i) => g ?? tf.zerosLike(trainables[i])) };
  }

  /** Frees the variables. */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}
