/**
 * Bounding a parrot's size: each of its k vectors held to at most a given L2 norm, so that a
 * parrot cannot stand for something no real prompt could be (e.g. a vector many times longer than
 * any token embedding). Pure row arithmetic, and the same projection as a differentiable op.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Weights } from "../../shared/model/weights.js";

/** The L2 norm of each `width`-wide row of `values` (row-major). */
export function rowNorms(values: Float32Array, width: number): number[] {
  if (width < 1 || values.length % width !== 0)
    throw new Error(`rowNorms: ${values.length} numbers do not make rows of ${width}`);
  const norms: number[] = [];
  for (let r = 0; r < values.length / width; r++) {
    let s = 0;
    for (let c = r * width; c < (r + 1) * width; c++) s += values[c] * values[c];
    norms.push(Math.sqrt(s));
  }
  return norms;
}

/** The largest row norm of `values` (0 for no rows). */
export function maxRowNorm(values: Float32Array, width: number): number {
  return Math.max(0, ...rowNorms(values, width));
}

/** `values` with every row longer than `bound` scaled down to norm `bound` (shorter rows unchanged). */
export function projectRows(values: Float32Array, width: number, bound: number): Float32Array {
  checkBound(bound);
  const out = new Float32Array(values);
  rowNorms(values, width).forEach((n, r) => {
    if (n <= bound) return;
    for (let c = r * width; c < (r + 1) * width; c++) out[c] *= bound / n;
  });
  return out;
}

/**
 * The same projection on a [k, C] tensor, differentiable: row · min(1, bound / ‖row‖). Trained
 * through it, a row past the bound keeps only the gradient that turns it, not the one that grows it.
 */
export function projectRowsOp(rows: tf.Tensor2D, bound: number): tf.Tensor2D {
  checkBound(bound);
  return tf.tidy(() => {
    const norms = tf.sqrt(tf.add(tf.sum(tf.square(rows), 1, true), 1e-12)); // [k,1]
    return tf.mul(rows, tf.minimum(1, tf.div(bound, norms))) as tf.Tensor2D;
  });
}

function checkBound(bound: number): void {
  if (!(bound > 0) || !Number.isFinite(bound))
    throw new Error(`parrot norm bound must be a finite number > 0, got ${bound}`);
}

/** The largest L2 norm of a token embedding (a row of `wte.weight`): the size of a real prompt's vectors. */
export function maxTokenNorm(weights: Weights): number {
  const wte = weights.get("wte.weight");
  if (!wte) throw new Error("maxTokenNorm: the weights have no wte.weight");
  return maxRowNorm(wte.data, wte.shape[1]);
}
