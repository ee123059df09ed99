/**
 * NAD's attention map (Li et al., ICLR 2021; Zagoruyko & Komodakis's attention transfer) for a
 * transformer: a layer's output F [B,T,C] collapsed over channels into one value per token,
 * A[b,t] = Σ_c F[b,t,c]² (the map with p = 2), zeroed on padding and L2-normalised over each row's
 * tokens. Tokens play the part of a CNN map's spatial positions.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Batch } from "../data/index.js";

/** Keeps the normalisation and the distance finite (and differentiable) at zero. */
const EPS = 1e-12;

/**
 * 1 at the positions a row really holds, 0 on its padding, row-major [B,T]: every position up to
 * the row's last trained one. A chat row is prompt then response, and the response's last target
 * (endoftext) sits at its last input position, so this is exactly the row's input tokens; it needs
 * no pad id (endoftext is both the padding and a real target).
 */
export function validPositions(batch: Pick<Batch, "mask" | "batchSize" | "seqLen">): Float32Array {
  const { batchSize: B, seqLen: T, mask } = batch;
  const out = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    let last = -1;
    for (let t = T - 1; t >= 0; t--)
      if (mask[b * T + t] !== 0) {
        last = t;
        break;
      }
    out.fill(1, b * T, b * T + last + 1);
  }
  return out;
}

/**
 * The attention map of features F [B,T,C] over the valid positions `valid` [B,T] (1/0):
 * A = v·Σ_c F² / ‖v·Σ_c F²‖₂ per row → [B,T], each row of unit norm (a row with nothing valid
 * stays zero).
 */
export function attentionMap(features: tf.Tensor3D, valid: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const energy = tf.mul(tf.sum(tf.square(features), -1), valid); // [B,T]
    const norm = tf.sqrt(tf.add(tf.sum(tf.square(energy), -1, true), EPS)); // [B,1]
    return tf.div(energy, norm) as tf.Tensor2D;
  });
}

/** ‖A_s − A_t‖₂ per row: two maps [B,T] → [B] (in [0, √2] for unit maps of non-negative values). */
export function attentionDistance(student: tf.Tensor2D, teacher: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.add(tf.sum(tf.square(tf.sub(student, teacher)), -1), EPS)) as tf.Tensor1D);
}
