/** The plain objective: a model's masked next-token cross-entropy, every parameter trained. */
import type { GPTConfig } from "../../shared/model/config.js";
import type { Weights } from "../../shared/model/weights.js";
import { TfGPT } from "../model/gpt.js";
import { maskedMeanObjective, type Objective, type TrainTarget } from "./objective.js";

/** What a worker thread needs to rebuild the model. */
export interface LmSnapshot {
  config: GPTConfig;
  weights: Weights;
  naive: boolean;
}

/** Trains every parameter of `model` (in place) on its masked cross-entropy, in as many threads as asked. */
export function lmTarget(model: TfGPT): TrainTarget {
  return {
    local: lmObjective(model),
    remote: {
      exportName: "buildLmObjective",
      snapshot: { config: model.config, weights: model.toWeights(), naive: model.naive } satisfies LmSnapshot,
    },
  };
}

function lmObjective(model: TfGPT, dispose?: () => void): Objective {
  return maskedMeanObjective(model, model.optimizedParams(), (b) => model.loss(b.tokens, b.targets, b.mask), dispose);
}

/** Worker side of `lmTarget`. */
export function buildLmObjective(snapshot: LmSnapshot): Objective {
  const model = TfGPT.fromWeights(snapshot.config, snapshot.weights, { naive: snapshot.naive });
  return lmObjective(model, () => model.dispose());
}
