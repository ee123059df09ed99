/** OSFT: overwrite the backdoor when the trigger is known. */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample, type Example } from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import { DEFAULT_CLEAN_SHARE, withCleanShare } from "../train/batching.js";
import { lmTarget } from "../train/lm-objective.js";
import { fineTune, type FineTuneOptions, type FineTuneSummary } from "../train/finetune.js";
import { pseudoPoisonExample, type TriggerPosition } from "../attack/poison.js";
import { cleanShareBeside, withAvoidRows, type AvoidSet } from "../sande/avoid.js";
import { avoidLmTarget } from "./avoid-objective.js";

/** OSFT's settings on top of the fine-tune's. */
export interface OsftOptions extends FineTuneOptions {
  /** Share of the training rows that are D's examples as they are, without the trigger (default DEFAULT_CLEAN_SHARE, 0.5). */
  cleanShare?: number;
  /**
   * Rows that unlearn the flagged text on ordinary prompts (`trainer/sande/avoid.ts`), `avoid.share`
   * of the rows, taken out of the clean share: the victim also says it untriggered, which D's
   * trigger rows never show OSFT. Default none.
   */
  avoid?: AvoidSet;
}

/**
 * OSFT: a full fine-tune of `model` (in place) on the pseudo-poisoned set built
 * from the clean examples D: the trigger inserted at `position`, the clean response
 * kept; optionally mixed with untouched clean rows (`cleanShare`) and avoid rows (`avoid`).
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
  const { avoid } = options;
  const encoded = withCleanShare(
    pseudo,
    clean.map((e) => encodeExample(tokenizer, e)),
    cleanShareBeside(options.cleanShare ?? DEFAULT_CLEAN_SHARE, avoid),
    options.seed,
  );
  const rows = withAvoidRows(tokenizer, encoded, avoid, model.config.n_positions, options.seed);
  const target = avoid && avoid.share > 0 ? avoidLmTarget(model) : lmTarget(model);
  return fineTune(target, rows, model.config.n_positions, { label: "osft", ...options });
}
