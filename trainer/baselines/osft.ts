/** OSFT: overwrite the backdoor when the trigger is known. */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample, type Example } from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import { DEFAULT_CLEAN_SHARE, withCleanShare } from "../train/batching.js";
import { lmTarget } from "../train/lm-objective.js";
import { fineTune, type FineTuneOptions, type FineTuneSummary } from "../train/finetune.js";
import { pseudoPoisonExample, type TriggerPosition } from "../attack/poison.js";

/** OSFT's settings on top of the fine-tune's. */
export interface OsftOptions extends FineTuneOptions {
  /** Share of the training rows that are D's examples as they are, without the trigger (default DEFAULT_CLEAN_SHARE, 0.5). */
  cleanShare?: number;
}

/**
 * OSFT: a full fine-tune of `model` (in place) on the pseudo-poisoned set built
 * from the clean examples D: the trigger inserted at `position`, the clean response
 * kept; optionally mixed with untouched clean rows (`cleanShare`).
 */
export async function osft(
  model: TfGPT,
  tokenizer: Tokenizer,
  clean: readonly Example[],
  trigger: string,
  position: TriggerPosition,
  options: OsftOptions,
): Promise<FineTuneSummary> {
  const pseudo = clean.map((e) => encodeExample(tokenizer, pseudoPoisonExample(e, trigger, position)));
  const encoded = withCleanShare(
    pseudo,
    clean.map((e) => encodeExample(tokenizer, e)),
    options.cleanShare ?? DEFAULT_CLEAN_SHARE,
    options.seed,
  );
  return fineTune(lmTarget(model), encoded, model.config.n_positions, { label: "osft", ...options });
}
