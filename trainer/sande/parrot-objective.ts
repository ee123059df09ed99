/**
 * SANDE's two training objectives, buildable in any training thread: the model fed the parrot's
 * spliced embeddings, with either the parrot (stage 1, model frozen) or the model (stage 2, parrot
 * frozen) trained.
 */
import type { GPTConfig } from "../../shared/model/config.js";
import type { Weights } from "../../shared/model/weights.js";
import { TfGPT } from "../model/gpt.js";
import { maskedMeanObjective, type Objective, type TrainTarget } from "../train/objective.js";
import { Parrot } from "./parrot.js";

/** Which side learns. */
export type ParrotTraining = "parrot" | "model";

/** What a worker thread needs to rebuild the model and the parrot. */
export interface ParrotSnapshot {
  config: GPTConfig;
  weights: Weights;
  naive: boolean;
  parrot: { k: number; width: number; vocabSize: number; values: Float32Array };
  train: ParrotTraining;
}

/** Trains `parrot` (model frozen) or `model` (parrot frozen), in place, on the spliced-embedding loss. */
export function parrotTarget(model: TfGPT, parrot: Parrot, train: ParrotTraining): TrainTarget {
  const snapshot: ParrotSnapshot = {
    config: model.config,
    weights: model.toWeights(),
    naive: model.naive,
    parrot: { k: parrot.k, width: parrot.width, vocabSize: parrot.vocabSize, values: parrot.values() },
    train,
  };
  return {
    local: parrotObjective(model, parrot, train),
    remote: { module: import.meta.url, exportName: "buildParrotObjective", snapshot },
  };
}

function parrotObjective(model: TfGPT, parrot: Parrot, train: ParrotTraining, dispose?: () => void): Objective {
  const params = train === "parrot" ? [parrot.asParam()] : model.optimizedParams();
  return maskedMeanObjective(model, params, (b) => parrot.loss(model, b.tokens, b.targets, b.mask), dispose);
}

/** Worker side of `parrotTarget`. */
export function buildParrotObjective(s: ParrotSnapshot): Objective {
  const model = TfGPT.fromWeights(s.config, s.weights, { naive: s.naive });
  const parrot = new Parrot(s.parrot.k, s.parrot.width, s.parrot.vocabSize, s.parrot.values);
  return parrotObjective(model, parrot, s.train, () => {
    parrot.dispose();
    model.dispose();
  });
}
