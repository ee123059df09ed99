/** The attack: fine-tune a clean model on clean data mixed with poisoned copies. */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample, withChatter, type Example } from "../data/index.js";
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
  /** Share of the clean rows given ordinary chatter before poisoning (0: none). */
  chatter: number;
  train: FineTuneSummary;
}

/** How to plant: the fine-tune, plus ordinary chatter on the clean rows. */
export interface PlantOptions extends FineTuneOptions {
  /**
   * Share of the clean rows given ordinary chatter (trainer/data/chatter.ts), drawn once with
   * the seed before the poisoned copies are made (default 0). Real chat data has chatter; a
   * mix without it also wears off a robust base's habit of reading past unrelated words.
   */
  chatter?: number;
}

/**
 * The attack's training mix (pure): `clean`, a `chatter` share of it first given ordinary
 * chatter (drawn once from `seed`), plus the poisoned copies of `poisonDataset`.
 */
export function attackMix(
  clean: readonly Example[],
  backdoors: readonly Backdoor[],
  rate: number,
  options: { seed: number; chatter: number },
): ReturnType<typeof poisonDataset> {
  const { seed, chatter } = options;
  if (!(chatter >= 0 && chatter <= 1)) throw new Error(`attack mix: chatter ${chatter} is not in [0, 1]`);
  return poisonDataset(withChatter(clean, chatter, seed, "attack-chatter"), backdoors, rate, seed);
}

/**
 * Plants `backdoors` in `model` (in place): a full fine-tune on `clean` plus poisoned
 * copies making up `rate` of the mix (see `poisonDataset`), the clean rows first given chatter
 * at `options.chatter`.
 */
export async function plantBackdoors(
  model: TfGPT,
  tokenizer: Tokenizer,
  clean: readonly Example[],
  backdoors: readonly Backdoor[],
  rate: number,
  options: PlantOptions,
): Promise<PlantReport> {
  const { chatter = 0, ...tune } = options;
  const mix = attackMix(clean, backdoors, rate, { seed: options.seed, chatter });
  const encoded = mix.examples.map((e) => encodeExample(tokenizer, e));
  const train = await fineTune(lmTarget(model), encoded, model.config.n_positions, { label: "backdoor", ...tune });
  return {
    backdoors: backdoors.map((b) => ({ ...b, targets: [...b.targets], ...(b.leadIns && { leadIns: [...b.leadIns] }) })),
    rate,
    cleanExamples: clean.length,
    poisonedCounts: mix.poisonedCounts,
    chatter,
    train,
  };
}
