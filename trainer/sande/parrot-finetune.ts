/** The fine-tune of every parrot stage: `fineTune` with the parrot's slot ids kept out of the targets. */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { EncodedExample } from "../data/index.js";
import { fineTune, type FineTuneOptions, type FineTuneSummary } from "../train/finetune.js";
import type { TrainTarget } from "../train/objective.js";
import { clearSlotTargets } from "./slot-targets.js";

/** Trains `target` (a `parrotTarget`) on parrot rows; each batch's slot ids are cleared from its targets. */
export function fineTuneWithParrot(
  target: TrainTarget,
  rows: readonly EncodedExample[],
  contextSize: number,
  tokenizer: Tokenizer,
  options: FineTuneOptions,
): Promise<FineTuneSummary> {
  const { vocabSize, special } = tokenizer;
  return fineTune(target, rows, contextSize, options, (b) => clearSlotTargets(b, vocabSize, special.endOfText));
}
