/**
 * A parrot that breaks the clean answer (adversarial stage 1): the model frozen, k zero-initialised
 * vectors, each held to L2 norm ≤ `maxNorm`, learn to make the model *not* give D's clean
 * responses (the unlikelihood of their first N tokens, `break-loss.ts`). Where the real trigger
 * still collapses the answers after stage 2, such a parrot looks for what still does so.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { Example } from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import type { FineTuneOptions, FineTuneSummary } from "../train/finetune.js";
import { Parrot } from "./parrot.js";
import { encodeParrotStage2, type ParrotLayout } from "./parrot-encode.js";
import { parrotTarget } from "./parrot-objective.js";
import { fineTuneWithParrot } from "./parrot-finetune.js";

/** The trained break parrot (the caller disposes it) and its training run. */
export interface BreakParrot {
  parrot: Parrot;
  summary: FineTuneSummary;
}

/** Trains a fresh bounded parrot that makes `model` miss D's clean answers; `model` is unchanged. */
export async function trainBreakParrot(
  model: TfGPT,
  tokenizer: Tokenizer,
  clean: readonly Example[],
  layoutOf: (i: number) => ParrotLayout,
  firstN: number,
  maxNorm: number,
  options: FineTuneOptions,
): Promise<BreakParrot> {
  const k = layoutOf(0).k;
  const parrot = new Parrot(k, model.config.n_embd, tokenizer.vocabSize, undefined, maxNorm);
  const rows = clean.map((e, i) => encodeParrotStage2(tokenizer, e, layoutOf(i), firstN));
  try {
    const summary = await fineTuneWithParrot(
      parrotTarget(model, parrot, "parrot", "break"),
      rows,
      model.config.n_positions,
      tokenizer,
      { label: "sande: break parrot", ...options },
    );
    return { parrot, summary };
  } catch (e) {
    parrot.dispose();
    throw e;
  }
}
