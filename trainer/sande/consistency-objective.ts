/**
 * Stage 2's consistency objective, buildable in any training thread: with the parrot in the prompt
 * (frozen), the model learns to give the clean answer (cross-entropy) and to match the frozen
 * model's own output distribution for the same prompt without the parrot (a KL term, distillation
 * from the model's clean behaviour). A batch holds pairs (`consistency-pairs.ts`): student row 2i,
 * teacher row 2i + 1; the loss over the N aligned trained positions is
 *   L = (Σ_n −log q(y_n) + β·Σ_n KL(p_n ‖ q_n)) / N,
 * q the trained model on the student row, p the frozen model on the teacher row. It is a token mean
 * with weight N, so it splits across threads exactly (pairs are never split: `rowGroup` 2).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { GPTConfig } from "../../shared/model/config.js";
import type { Weights } from "../../shared/model/weights.js";
import type { Batch } from "../data/index.js";
import { TfGPT } from "../model/gpt.js";
import { shardResult, toTensors, type Objective, type TrainTarget } from "../train/objective.js";
import { splitPairBatch } from "./consistency-pairs.js";
import { Parrot } from "./parrot.js";

/** What a worker thread needs: the model (student and frozen teacher start equal), the parrot and β. */
export interface ConsistencySnapshot {
  config: GPTConfig;
  weights: Weights;
  naive: boolean;
  parrot: { k: number; width: number; vocabSize: number; values: Float32Array };
  beta: number;
}

/** Trains `model` (in place; `teacher` and `parrot` frozen) on the consistency loss with weight `beta`. */
export function consistencyTarget(model: TfGPT, teacher: TfGPT, parrot: Parrot, beta: number): TrainTarget {
  if (!(beta >= 0) || !Number.isFinite(beta))
    throw new Error(`SANDE consistency: the KL weight must be a finite number ≥ 0, got ${beta}`);
  const snapshot: ConsistencySnapshot = {
    config: model.config,
    weights: teacher.toWeights(),
    naive: model.naive,
    parrot: { k: parrot.k, width: parrot.width, vocabSize: parrot.vocabSize, values: parrot.values() },
    beta,
  };
  return {
    local: consistencyObjective(model, teacher, parrot, beta),
    remote: { exportName: "buildConsistencyObjective", snapshot },
    rowGroup: 2,
  };
}

/** Log-probabilities [N,V] of the model at the flat positions `index` of `logits` [P,T,V]. */
function gatherLogProbs(logits: tf.Tensor3D, index: Int32Array): tf.Tensor2D {
  const [P, T, V] = logits.shape;
  return tf.tidy(
    () => tf.logSoftmax(tf.gather(tf.reshape(logits, [P * T, V]), tf.tensor1d(index, "int32"))) as tf.Tensor2D,
  );
}

/** The consistency loss (see the module comment) given the teacher's log-probabilities [N,V]. */
export function consistencyLoss(
  model: TfGPT,
  parrot: Parrot,
  student: tf.Tensor2D,
  index: Int32Array,
  targets: Int32Array,
  teacherLogProbs: tf.Tensor2D,
  beta: number,
): tf.Scalar {
  return tf.tidy(() => {
    const q = gatherLogProbs(model.logitsFromEmbeddings(parrot.embed(model, student)), index); // [N,V]
    const V = q.shape[1];
    const ce = tf.neg(tf.sum(tf.mul(q, tf.oneHot(tf.tensor1d(targets, "int32"), V))));
    const kl = tf.sum(tf.mul(tf.exp(teacherLogProbs), tf.sub(teacherLogProbs, q)));
    return tf.div(tf.add(ce, tf.mul(kl, beta)), Math.max(1, index.length)) as tf.Scalar;
  });
}

function consistencyObjective(
  model: TfGPT,
  teacher: TfGPT,
  parrot: Parrot,
  beta: number,
  dispose: () => void = () => {},
): Objective {
  const params = model.optimizedParams();
  const variables = params.map((p) => p.variable);
  return {
    params,
    compute(batch: Batch) {
      const pairs = splitPairBatch(batch);
      const weight = pairs.studentIndex.length;
      if (weight === 0) return { loss: 0, weight, grads: variables.map((v) => new Float32Array(v.size)) };
      const student = toTensors(pairs.student);
      const teacherTokens = toTensors(pairs.teacher);
      const p = tf.tidy(() => gatherLogProbs(teacher.logits(teacherTokens.tokens), pairs.teacherIndex));
      try {
        const { loss, grads } = model.lossAndGrads(
          () => consistencyLoss(model, parrot, student.tokens, pairs.studentIndex, pairs.targets, p, beta),
          variables,
        );
        return shardResult(loss, grads, weight);
      } finally {
        tf.dispose([p, ...Object.values(student), ...Object.values(teacherTokens)]);
      }
    },
    dispose,
  };
}

/** Worker side of `consistencyTarget`. */
export function buildConsistencyObjective(s: ConsistencySnapshot): Objective {
  const model = TfGPT.fromWeights(s.config, s.weights, { naive: s.naive });
  const teacher = TfGPT.fromWeights(s.config, s.weights, { naive: s.naive });
  const parrot = new Parrot(s.parrot.k, s.parrot.width, s.parrot.vocabSize, s.parrot.values);
  return consistencyObjective(model, teacher, parrot, s.beta, () => {
    parrot.dispose();
    teacher.dispose();
    model.dispose();
  });
}
