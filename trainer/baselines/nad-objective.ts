/**
 * NAD's training objective (Neural Attention Distillation, Li et al., ICLR 2021) on a GPT, buildable
 * in any training thread: the student's masked cross-entropy on the clean response plus β times the
 * distance between its attention maps and a frozen teacher's, summed over the blocks' outputs.
 *
 * The batch's loss is a token mean, like the plain fine-tune's, so it splits across threads exactly:
 *   L = Σ_b [ Σ_t ce[b,t]·m[b,t] + β·n_b·Σ_l ‖A_s^l[b] − A_t^l[b]‖₂ ] / Σ_b n_b,   n_b = Σ_t m[b,t],
 * i.e. each row's distillation distance counts as often as the row has trained tokens.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { GPTConfig } from "../../shared/model/config.js";
import type { Weights } from "../../shared/model/weights.js";
import type { Batch } from "../data/index.js";
import { TfGPT } from "../model/gpt.js";
import { opsFor } from "../tf/ops.js";
import {
  maskWeight,
  shardResult,
  toTensors,
  type Objective,
  type TensorBatch,
  type TrainTarget,
} from "../train/objective.js";
import { attentionDistance, attentionMap, validPositions } from "./attention-map.js";

/** What a worker thread needs to rebuild the student and the teacher. */
export interface NadSnapshot {
  config: GPTConfig;
  student: Weights;
  teacher: Weights;
  naive: boolean;
  beta: number;
}

/** The two parts of NAD's loss on one batch (scalars; the caller disposes them). */
export interface NadLossParts {
  /** Masked mean cross-entropy of the student. */
  ce: tf.Scalar;
  /** Σ over blocks of the per-row attention-map distance, averaged over rows weighted by trained tokens. */
  distance: tf.Scalar;
}

/** The teacher's attention maps of every block for `tokens` [B,T], valid positions [B,T] → n_layer × [B,T]. */
export function teacherMaps(teacher: TfGPT, tokens: tf.Tensor2D, valid: tf.Tensor2D): tf.Tensor2D[] {
  return tf.tidy(() => teacher.forwardWithHidden(tokens).hidden.map((h) => attentionMap(h, valid)));
}

/**
 * The student's cross-entropy and its distance to the teacher's maps (`teacher`: n_layer × [B,T]
 * from {@link teacherMaps}), differentiable with respect to the student's weights.
 */
export function nadLossParts(
  student: TfGPT,
  batch: TensorBatch,
  valid: tf.Tensor2D,
  teacher: readonly tf.Tensor2D[],
): NadLossParts {
  return tf.tidy(() => {
    const { logits, hidden } = student.forwardWithHidden(batch.tokens); // [B,T,V], n_layer × [B,T,C]
    if (hidden.length !== teacher.length)
      throw new Error(`NAD: the student has ${hidden.length} blocks but the teacher gave ${teacher.length} maps`);
    const ce = opsFor(student.naive).crossEntropy(logits, batch.targets, batch.mask);
    const rows = hidden
      .map((h, l) => attentionDistance(attentionMap(h, valid), teacher[l])) // each [B]
      .reduce((a, b) => tf.add(a, b)); // [B]
    const tokens = tf.sum(batch.mask, -1); // [B] trained tokens per row
    const distance = tf.div(tf.sum(tf.mul(rows, tokens)), tf.maximum(tf.sum(tokens), 1)) as tf.Scalar;
    return { ce, distance };
  });
}

/** NAD's loss: ce + β·distance. */
export function nadLoss(
  student: TfGPT,
  batch: TensorBatch,
  valid: tf.Tensor2D,
  teacher: readonly tf.Tensor2D[],
  beta: number,
): tf.Scalar {
  return tf.tidy(() => {
    const { ce, distance } = nadLossParts(student, batch, valid, teacher);
    return tf.add(ce, tf.mul(distance, beta)) as tf.Scalar;
  });
}

/** Trains every parameter of `student` (in place) on NAD's loss against the frozen `teacher`. */
export function nadTarget(student: TfGPT, teacher: TfGPT, beta: number): TrainTarget {
  checkBeta(beta);
  const snapshot: NadSnapshot = {
    config: student.config,
    student: student.toWeights(),
    teacher: teacher.toWeights(),
    naive: student.naive,
    beta,
  };
  return {
    local: nadObjective(student, teacher, beta),
    remote: { exportName: "buildNadObjective", snapshot },
  };
}

function nadObjective(student: TfGPT, teacher: TfGPT, beta: number, dispose: () => void = () => {}): Objective {
  const params = student.optimizedParams();
  const variables = params.map((p) => p.variable);
  return {
    params,
    compute(batch: Batch) {
      const weight = maskWeight(batch);
      const tensors = toTensors(batch);
      const valid = tf.tensor2d(validPositions(batch), [batch.batchSize, batch.seqLen], "float32");
      const maps = teacherMaps(teacher, tensors.tokens, valid);
      try {
        const { loss, grads } = student.lossAndGrads(() => nadLoss(student, tensors, valid, maps, beta), variables);
        return shardResult(loss, grads, weight);
      } finally {
        tf.dispose([tensors.tokens, tensors.targets, tensors.mask, valid, ...maps]);
      }
    },
    dispose,
  };
}

/** Worker side of `nadTarget`. */
export function buildNadObjective(s: NadSnapshot): Objective {
  const student = TfGPT.fromWeights(s.config, s.student, { naive: s.naive });
  const teacher = TfGPT.fromWeights(s.config, s.teacher, { naive: s.naive });
  return nadObjective(student, teacher, s.beta, () => {
    student.dispose();
    teacher.dispose();
  });
}

function checkBeta(beta: number): void {
  if (!(beta >= 0) || !Number.isFinite(beta)) throw new Error(`NAD: beta must be a finite number ≥ 0, got ${beta}`);
}
