/** Baseline removal by Fine-mixing: mix backdoored and clean weights, then fine-tune on clean data. */
import * as tf from "@tensorflow/tfjs-core";
import type { Weights } from "../../shared/model/weights.js";
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { Example } from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import type { FineTuneOptions, FineTuneSummary } from "../train/finetune.js";
import { mixWeights } from "./mix.js";
import { sft } from "./sft.js";

/** Fine-mixing's settings on top of the fine-tune's. */
export interface FineMixingOptions extends FineTuneOptions {
  /** Share of elements that keep the backdoored value (default 0.5). */
  keep?: number;
}

/** Fine-mixing of `model` (in place) with the clean model's weights, then SFT on the clean examples D. */
export async function fineMixing(
  model: TfGPT,
  cleanWeights: Weights,
  tokenizer: Tokenizer,
  clean: readonly Example[],
  options: FineMixingOptions,
): Promise<FineTuneSummary & { keep: number }> {
  const keep = options.keep ?? 0.5;
  const mixed = mixWeights(model.toWeights(), cleanWeights, keep, options.seed);
  for (const [name, variable] of model.params) {
    const w = mixed.get(name)!;
    tf.tidy(() => variable.assign(tf.tensor(w.data, w.shape, "float32")));
  }
  return { ...(await sft(model, tokenizer, clean, { label: "fine-mixing", ...options })), keep };
}
