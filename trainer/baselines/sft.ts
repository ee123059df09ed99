/** Baseline removal by plain supervised fine-tuning on clean data. */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample, type Example } from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import { lmTarget } from "../train/lm-objective.js";
import { fineTune, type FineTuneOptions, type FineTuneSummary } from "../train/finetune.js";

/** SFT: a full fine-tune of `model` (in place) on the clean examples D, loss on the whole response. */
export async function sft(
  model: TfGPT,
  tokenizer: Tokenizer,
  clean: readonly Example[],
  options: FineTuneOptions,
): Promise<FineTuneSummary> {
  const encoded = clean.map((e) => encodeExample(tokenizer, e));
  return fineTune(lmTarget(model), encoded, model.config.n_positions, { label: "sft", ...options });
}
