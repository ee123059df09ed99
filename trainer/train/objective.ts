/**
 * What a training run optimises, in a form every training thread can build for itself.
 *
 * An `Objective` owns live tfjs variables in one thread: it lists the trainable ones and computes a
 * batch's loss and gradients. A `TrainTarget` pairs the caller's objective (this thread) with a
 * recipe for the same objective in a worker thread: a module URL, the name of its builder export
 * and a structured-cloneable snapshot. The data-parallel loop (`loop.ts`) splits each batch's rows
 * across threads and combines their gradients, weighted by `weight`, into the gradient of the whole
 * batch.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Batch } from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import type { OptimizedParam } from "./optim.js";

/** One thread's loss and gradients on its rows of a batch. */
export interface ShardResult {
  /** The loss on these rows (a weighted mean). */
  loss: number;
  /** How much these rows weigh in the batch's mean (Σ |mask| for a masked token mean; 0: nothing trained). */
  weight: number;
  /** Gradients of `loss`, one per trainable parameter, in `params` order. */
  grads: Float32Array[];
}

/** The live objective in one thread. */
export interface Objective {
  /** The trainable parameters, in a fixed order that every thread agrees on. */
  readonly params: OptimizedParam[];
  /** Loss and gradients of `batch`. */
  compute(batch: Batch): ShardResult;
  /** Frees what `build` allocated (a caller's own objective may keep its model). */
  dispose(): void;
}

/** How a worker thread builds the objective: the builder of that name (objective-builders.ts) on the snapshot. */
export interface ObjectiveRecipe {
  exportName: string;
  snapshot: unknown;
}

/** The caller's objective and, when it can run in several threads, the recipe for the others. */
export interface TrainTarget {
  local: Objective;
  remote?: ObjectiveRecipe;
  /**
   * Rows the loss ties together, in consecutive groups of this many (default 1): the loop never
   * splits a group across threads (e.g. 2 for DPO's chosen/rejected pairs).
   */
  rowGroup?: number;
}

/** A batch as tensors. */
export interface TensorBatch {
  tokens: tf.Tensor2D;
  targets: tf.Tensor2D;
  mask: tf.Tensor2D;
}

/** The batch as int32/float32 tensors [B,T]; the caller disposes them. */
export function toTensors(batch: Batch): TensorBatch {
  const shape: [number, number] = [batch.batchSize, batch.seqLen];
  return {
    tokens: tf.tensor2d(batch.tokens, shape, "int32"),
    targets: tf.tensor2d(batch.targets, shape, "int32"),
    mask: tf.tensor2d(batch.mask, shape, "float32"),
  };
}

/** Σ |mask| (a negative mask marks tokens an avoid loss trains against: `sande/avoid-loss.ts`). */
export function maskWeight(batch: Batch): number {
  let s = 0;
  for (let i = 0; i < batch.mask.length; i++) s += Math.abs(batch.mask[i]);
  return s;
}

/**
 * An objective whose loss is a masked token mean (weight Σ |mask|) computed by `loss` from the batch
 * tensors, differentiated with respect to `params` through `model.lossAndGrads` (which skips the
 * weight gradients when no model parameter trains).
 */
export function maskedMeanObjective(
  model: TfGPT,
  params: OptimizedParam[],
  loss: (batch: TensorBatch) => tf.Scalar,
  dispose: () => void = () => {},
): Objective {
  const variables = params.map((p) => p.variable);
  return {
    params,
    compute(batch) {
      const weight = maskWeight(batch);
      const tensors = toTensors(batch);
      try {
        const { loss: value, grads } = model.lossAndGrads(() => loss(tensors), variables);
        return shardResult(value, grads, weight);
      } finally {
        tf.dispose([tensors.tokens, tensors.targets, tensors.mask]);
      }
    },
    dispose,
  };
}

/** A shard's loss and gradients copied off the backend as plain arrays; the tensors are disposed. */
export function shardResult(loss: tf.Scalar, grads: readonly tf.Tensor[], weight: number): ShardResult {
  const out = {
    loss: loss.dataSync()[0],
    weight,
    grads: grads.map((g) => new Float32Array(g.dataSync() as Float32Array)),
  };
  tf.dispose([loss, ...grads]);
  return out;
}

/** Overwrites every trainable variable of `objective` with `values` (same order and sizes). */
export function assignValues(objective: Objective, values: readonly Float32Array[]): void {
  objective.params.forEach((p, i) => {
    const t = tf.tensor(values[i], p.variable.shape, "float32");
    p.variable.assign(t);
    t.dispose();
  });
}

/** The current values of every trainable variable, copied. */
export function readValues(objective: Objective): Float32Array[] {
  return objective.params.map((p) => new Float32Array(p.variable.dataSync() as Float32Array));
}
