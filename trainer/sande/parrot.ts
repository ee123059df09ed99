/**
 * SANDE's parrot prompt in TensorFlow.js: k soft vectors [k,C] spliced into the
 * input embeddings at the slots `parrot-encode.ts` marks (ids vocabSize + j).
 * The splice is a mask multiply and add, so gradients reach the parrot only at
 * its slots, and reach the token embedding table only elsewhere.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { TfGPT } from "../model/gpt.js";
import type { OptimizedParam } from "../train/optim.js";
import { projectRows, projectRowsOp } from "./parrot-norm.js";

let parrotCount = 0;

/** k soft-prompt vectors of the model's width, zero-initialised. */
export class Parrot {
  /** [k, C] */
  readonly variable: tf.Variable<tf.Rank.R2>;

  /**
   * @param k number of vectors
   * @param width the model's n_embd (C)
   * @param vocabSize the tokenizer's vocabulary size: slot j is token id vocabSize + j
   * @param values initial values, k·C row-major (default zeros, as in the paper)
   * @param maxNorm when given, the model sees each vector projected to L2 norm ≤ maxNorm
   *   (`parrot-norm.ts`; the variable itself is unconstrained, the projection is part of the graph)
   */
  constructor(
    readonly k: number,
    readonly width: number,
    readonly vocabSize: number,
    values?: Float32Array,
    readonly maxNorm?: number,
  ) {
    if (!Number.isInteger(k) || k < 1) throw new Error(`parrot length k must be a positive integer, got ${k}`);
    if (values && values.length !== k * width)
      throw new Error(`parrot values: ${values.length} numbers for [${k}, ${width}]`);
    const init: tf.Tensor2D = values ? tf.tensor2d(values, [k, width]) : tf.zeros([k, width]);
    this.variable = tf.variable(init, true, `parrot${parrotCount++}`);
    init.dispose();
  }

  /** The parrot as a parameter for `trainLoop` (no weight decay). */
  asParam(): OptimizedParam {
    return { name: "parrot", variable: this.variable, decay: false };
  }

  /** The vectors the model sees (projected when `maxNorm` is set), k·C row-major. */
  values(): Float32Array {
    const raw = new Float32Array(this.variable.dataSync());
    return this.maxNorm === undefined ? raw : projectRows(raw, this.width, this.maxNorm);
  }

  /** The vectors as the model sees them, [k, C] (the variable, or its projection). */
  private vectors(): tf.Tensor2D {
    return this.maxNorm === undefined ? this.variable : projectRowsOp(this.variable, this.maxNorm);
  }

  /**
   * Input embeddings with the parrot spliced in: tokens int32 [B,T] (slot j marked
   * by vocabSize + j) → [B,T,C]. Slot positions get parrot[j]; the rest wte rows.
   */
  embed(model: TfGPT, tokens: tf.Tensor2D): tf.Tensor3D {
    const V = this.vocabSize;
    const [B, T] = tokens.shape;
    const C = this.width;
    if (model.config.n_embd !== C)
      throw new Error(`parrot width ${C} does not match the model's n_embd ${model.config.n_embd}`);
    return tf.tidy(() => {
      const slotIds = tf.range(V, V + this.k, 1, "int32"); // [k]
      const onehot = tf.cast(tf.equal(tf.expandDims(tokens, 2), slotIds), "float32"); // [B,T,k]
      const isSlot = tf.sum(onehot, 2, true); // [B,T,1]
      const ids = tf.where(tf.greaterEqual(tokens, V), tf.zerosLike(tokens), tokens) as tf.Tensor2D; // [B,T], slots → token 0 (masked out below)
      const words = tf.mul(model.embedTokens(ids), tf.sub(1, isSlot)); // [B,T,C], zero at slots
      const soft = tf.reshape(tf.matMul(tf.reshape(onehot, [B * T, this.k]), this.vectors()), [B, T, C]); // [B,T,C], parrot[j] at slot j
      return tf.add(words, soft) as tf.Tensor3D;
    });
  }

  /** Masked mean cross-entropy of the model fed the spliced embeddings. */
  loss(model: TfGPT, tokens: tf.Tensor2D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
    return model.lossFromEmbeddings(this.embed(model, tokens), targets, mask);
  }

  /** Frees the variable. */
  dispose(): void {
    this.variable.dispose();
  }
}
