/**
 * SANDE's two training objectives, buildable in any training thread: the model fed the parrot's
 * spliced embeddings, with either the parrot (stage 1, model frozen) or the model (stage 2, parrot
 * frozen) trained. The loss is the cross-entropy of the targets ("answer": say them), their
 * unlikelihood ("break": make the model not say them, `break-loss.ts`), or both by the mask's sign
 * ("avoid": say where it is positive, not where negative, `avoid-loss.ts`).
 */
import type { GPTConfig } from "../../shared/model/config.js";
import type { Weights } from "../../shared/model/weights.js";
import { TfGPT } from "../model/gpt.js";
import { maskedMeanObjective, type Objective, type TensorBatch, type TrainTarget } from "../train/objective.js";
import { Parrot } from "./parrot.js";
import { unlikelihood } from "./break-loss.js";
import { answerAvoidLoss } from "./avoid-loss.js";

/** Which side learns. */
export type ParrotTraining = "parrot" | "model";

/** What the loss asks of the marked tokens: that the model says them, or that it does not. */
export type ParrotGoal = "answer" | "break" | "avoid";

/** What a worker thread needs to rebuild the model and the parrot. */
export interface ParrotSnapshot {
  config: GPTConfig;
  weights: Weights;
  naive: boolean;
  parrot: { k: number; width: number; vocabSize: number; values: Float32Array; maxNorm?: number };
  train: ParrotTraining;
  goal: ParrotGoal;
}

/**
 * Trains `parrot` (model frozen) or `model` (parrot frozen), in place, on the spliced-embedding loss
 * with `goal` (default "answer": the cross-entropy).
 */
export function parrotTarget(
  model: TfGPT,
  parrot: Parrot,
  train: ParrotTraining,
  goal: ParrotGoal = "answer",
): TrainTarget {
  const { k, width, vocabSize, maxNorm } = parrot;
  const snapshot: ParrotSnapshot = {
    config: model.config,
    weights: model.toWeights(),
    naive: model.naive,
    parrot: { k, width, vocabSize, values: parrot.values(), maxNorm },
    train,
    goal,
  };
  return {
    local: parrotObjective(model, parrot, train, goal),
    remote: { exportName: "buildParrotObjective", snapshot },
  };
}

function parrotObjective(
  model: TfGPT,
  parrot: Parrot,
  train: ParrotTraining,
  goal: ParrotGoal,
  dispose?: () => void,
): Objective {
  const params = train === "parrot" ? [parrot.asParam()] : model.optimizedParams();
  const logits = (b: TensorBatch) => model.logitsFromEmbeddings(parrot.embed(model, b.tokens));
  const loss =
    goal === "break"
      ? (b: TensorBatch) => unlikelihood(logits(b), b.targets, b.mask)
      : goal === "avoid"
        ? (b: TensorBatch) => answerAvoidLoss(logits(b), b.targets, b.mask)
        : (b: TensorBatch) => parrot.loss(model, b.tokens, b.targets, b.mask);
  return maskedMeanObjective(model, params, loss, dispose);
}

/** Worker side of `parrotTarget`. */
export function buildParrotObjective(s: ParrotSnapshot): Objective {
  const model = TfGPT.fromWeights(s.config, s.weights, { naive: s.naive });
  const parrot = new Parrot(s.parrot.k, s.parrot.width, s.parrot.vocabSize, s.parrot.values, s.parrot.maxNorm);
  return parrotObjective(model, parrot, s.train, s.goal, () => {
    parrot.dispose();
    model.dispose();
  });
}
