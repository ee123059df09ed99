/**
 * A full fine-tune whose rows may carry avoid tokens (mask −1, `trainer/sande/avoid.ts`): the
 * cross-entropy where the mask is positive and the unlikelihood −log(1 − p) where it is negative
 * (`answerAvoidLoss`). OSFT uses it when it also unlearns the flagged text on ordinary prompts.
 */
import { TfGPT } from "../model/gpt.js";
import type { LmSnapshot } from "../train/lm-objective.js";
import { maskedMeanObjective, type Objective, type TrainTarget } from "../train/objective.js";
import { answerAvoidLoss } from "../sande/avoid-loss.js";

/** Trains every parameter of `model` (in place) on the answer-and-avoid loss, in as many threads as asked. */
export function avoidLmTarget(model: TfGPT): TrainTarget {
  return {
    local: avoidLmObjective(model),
    remote: {
      exportName: "buildAvoidLmObjective",
      snapshot: { config: model.config, weights: model.toWeights(), naive: model.naive } satisfies LmSnapshot,
    },
  };
}

function avoidLmObjective(model: TfGPT, dispose?: () => void): Objective {
  return maskedMeanObjective(
    model,
    model.optimizedParams(),
    (b) => answerAvoidLoss(model.logits(b.tokens), b.targets, b.mask),
    dispose,
  );
}

/** Worker side of `avoidLmTarget`. */
export function buildAvoidLmObjective(snapshot: LmSnapshot): Objective {
  const model = TfGPT.fromWeights(snapshot.config, snapshot.weights, { naive: snapshot.naive });
  return avoidLmObjective(model, () => model.dispose());
}
