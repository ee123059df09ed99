/** The attack: fine-tune a clean model on clean data mixed with poisoned copies. */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample, type Example } from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import { lmTarget } from "../train/lm-objective.js";
import { fineTune, type FineTuneOptions, type FineTuneSummary } from "../train/finetune.js";
import { poisonDataset, type Backdoor } from "./poison.js";

/** What planting did. */
export interface PlantReport {
  backdoors: Backdoor[];
  rate: number;
  /** Clean examples, and poisoned copies per backdoor, in the training mix. */
  cleanExamples: number;
  poisonedCounts: number[];
  train: FineTuneSummary;
}

/**
 * Plants `backdoors` in `model` (in place): a full fine-tune on `clean` plus poisoned
 * copies making up `rate` of the mix (see `poisonDataset`).
 */
export async function plantBackdoors(
  model: TfGPT,
  tokenizer: Tokenizer,
  clean: readonly Example[],
  backdoors: readonly Backdoor[],
  rate: number,
  options: FineTuneOptions,
): Promise<PlantReport> {
  const mix = poisonDataset(clean, backdoors, rate, options.seed);
  const encoded = mix.examples.map((e) => encodeExample(tokenizer, e));
  const train = await fineTune(lmTarget(model), encoded, model.config.n_positions, { label: "backdoor", ...options });
  return {
    backdoors: backdoors.map((b) => ({ ...b, targets: [...b.targets], ...(b.leadIns && { leadIns: [...b.leadIns] }) })),
    rate,
    cleanExamples: clean.length,
    poisonedCounts: mix.poisonedCounts,
    train,
  };
}
