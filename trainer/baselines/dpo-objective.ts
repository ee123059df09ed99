/**
 * DPO's training objective (Direct Preference Optimization, Rafailov et al., NeurIPS 2023),
 * buildable in any training thread. A batch holds preference pairs as consecutive rows (chosen 2i,
 * rejected 2i + 1, response tokens masked); the loss is
 *   −mean_i log σ(β·[(log π(y_w|x) − log π_ref(y_w|x)) − (log π(y_l|x) − log π_ref(y_l|x))])
 * with sequence log-probabilities over the response tokens. π_ref is a frozen copy of the starting
 * model, run on the same rows in the same step (one forward pass more per step, no per-example
 * cache to carry through shuffled, trimmed, split batches). The target tells the loop never to split
 * a pair across threads (`rowGroup` 2); each thread's weight is its number of pairs.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { GPTConfig } from "../../shared/model/config.js";
import type { Weights } from "../../shared/model/weights.js";
import type { Batch } from "../data/index.js";
import { TfGPT } from "../model/gpt.js";
import { shardResult, toTensors, type Objective, type TrainTarget } from "../train/objective.js";
import { sequenceLogProbs } from "./sequence-logprob.js";

/** What a worker thread needs to rebuild the policy and the reference. */
export interface DpoSnapshot {
  config: GPTConfig;
  policy: Weights;
  reference: Weights;
  naive: boolean;
  beta: number;
}

/**
 * DPO's loss from the sequence log-probabilities of pairs laid out as rows (chosen 2i, rejected
 * 2i + 1): policy, reference [2P] → mean over the P pairs of softplus(−β·margin) = −log σ(β·margin).
 */
export function dpoLoss(policy: tf.Tensor1D, reference: tf.Tensor1D, beta: number): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.softplus(tf.neg(tf.mul(dpoMargins(policy, reference), beta)))) as tf.Scalar);
}

/**
 * Per pair: (log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l)), the implicit reward
 * margin over β: [2P] × 2 → [P].
 */
export function dpoMargins(policy: tf.Tensor1D, reference: tf.Tensor1D): tf.Tensor1D {
  if (policy.shape[0] % 2 !== 0) throw new Error(`DPO: ${policy.shape[0]} rows are not whole pairs`);
  return tf.tidy(() => {
    const ratios = tf.reshape(tf.sub(policy, reference), [-1, 2]); // [P,2]: chosen, rejected
    const [chosen, rejected] = tf.split(ratios, 2, 1); // [P,1] each
    return tf.reshape(tf.sub(chosen, rejected), [-1]) as tf.Tensor1D;
  });
}

/** Trains every parameter of `policy` (in place) on DPO's loss against the frozen `reference`. */
export function dpoTarget(policy: TfGPT, reference: TfGPT, beta: number): TrainTarget {
  if (!(beta > 0) || !Number.isFinite(beta)) throw new Error(`DPO: beta must be a finite number > 0, got ${beta}`);
  const snapshot: DpoSnapshot = {
    config: policy.config,
    policy: policy.toWeights(),
    reference: reference.toWeights(),
    naive: policy.naive,
    beta,
  };
  return {
    local: dpoObjective(policy, reference, beta),
    remote: { exportName: "buildDpoObjective", snapshot },
    rowGroup: 2,
  };
}

function dpoObjective(policy: TfGPT, reference: TfGPT, beta: number, dispose: () => void = () => {}): Objective {
  const params = policy.optimizedParams();
  const variables = params.map((p) => p.variable);
  return {
    params,
    compute(batch: Batch) {
      if (batch.batchSize % 2 !== 0) throw new Error(`DPO: a shard of ${batch.batchSize} rows splits a pair`);
      const tensors = toTensors(batch);
      const ref = sequenceLogProbs(reference, tensors); // [2P], no gradient: computed outside the tape
      try {
        const { loss, grads } = policy.lossAndGrads(
          () => dpoLoss(sequenceLogProbs(policy, tensors), ref, beta),
          variables,
        );
        return shardResult(loss, grads, batch.batchSize / 2);
      } finally {
        tf.dispose([tensors.tokens, tensors.targets, tensors.mask, ref]);
      }
    },
    dispose,
  };
}

/** Worker side of `dpoTarget`. */
export function buildDpoObjective(s: DpoSnapshot): Objective {
  const policy = TfGPT.fromWeights(s.config, s.policy, { naive: s.naive });
  const reference = TfGPT.fromWeights(s.config, s.reference, { naive: s.naive });
  return dpoObjective(policy, reference, s.beta, () => {
    policy.dispose();
    reference.dispose();
  });
}
