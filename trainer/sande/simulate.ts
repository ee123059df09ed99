/**
 * SANDE's stage 1 (simulate: train the parrot to make the frozen model say the response) and the
 * probe that measures a parrot's effect, shared by `sande.ts` and the rounds of `rounds.ts`.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { Example } from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import { ASR_WINDOW } from "../eval/asr.js";
import { greedyAnswers } from "../eval/greedy-pool.js";
import { scoreAnswers, type ProbeScore } from "../eval/probe.js";
import type { FineTuneOptions, FineTuneSummary } from "../train/finetune.js";
import type { Parrot } from "./parrot.js";
import { parrotTarget } from "./parrot-objective.js";
import { fineTuneWithParrot } from "./parrot-finetune.js";
import { encodeParrotStage1, parrotPromptIds, type ParrotLayout, type ParrotPosition } from "./parrot-encode.js";

/** The summary of a stage that did not run (0 steps). */
export function skipped(options: FineTuneOptions, examples: number): FineTuneSummary {
  return { steps: 0, lr: options.lr, batchSize: options.batchSize ?? 16, examples, finalLoss: NaN, seconds: 0 };
}

/** Row i's layout: the parrot at positions[i mod n] (the layout's own position when none are given). */
export function rotate(layout: ParrotLayout, positions?: readonly ParrotPosition[]): (i: number) => ParrotLayout {
  const at = positions?.length ? positions : [layout.position];
  return (i) => ({ k: layout.k, position: at[i % at.length] });
}

/**
 * Stage 1: trains only `parrot` (the model's variables are not in the parameter
 * list) so that the model says `response` before each clean answer of D.
 */
export function simulate(
  model: TfGPT,
  parrot: Parrot,
  tokenizer: Tokenizer,
  clean: readonly Example[],
  layout: ParrotLayout,
  response: string,
  options: FineTuneOptions,
  leadIn = "",
  positions?: readonly ParrotPosition[],
): Promise<FineTuneSummary> {
  checkLayout(parrot, layout);
  const at = rotate(layout, positions);
  const rows = clean.map((e, i) => encodeParrotStage1(tokenizer, e, at(i), response, leadIn));
  return fineTuneWithParrot(parrotTarget(model, parrot, "parrot"), rows, model.config.n_positions, tokenizer, {
    label: "sande: parrot",
    ...options,
  });
}

/** Throws when the layout places another number of vectors than the parrot has. */
export function checkLayout(parrot: Parrot, layout: ParrotLayout): void {
  if (parrot.k !== layout.k) throw new Error(`the parrot has ${parrot.k} vectors but the layout places ${layout.k}`);
}

/**
 * The parrot's effect on `prompts` (see `scoreProbe`): how often the model says `response` with
 * the parrot in the prompt, with residue, and the exact-match accuracy. Runs the pure-TS inference
 * with the parrot as soft tokens (KV-cached), the prompts split over the greedy pool's threads. With
 * `positions`, prompt i has the parrot at positions[i mod n].
 */
export async function measureParrot(
  model: TfGPT,
  parrot: Parrot,
  tokenizer: Tokenizer,
  prompts: readonly Example[],
  layout: ParrotLayout,
  response: string,
  positions?: readonly ParrotPosition[],
): Promise<ProbeScore> {
  return scoreAnswers(prompts, await parrotAnswers(model, parrot, tokenizer, prompts, layout, positions), response);
}

/** The model's greedy answers (≤ ASR_WINDOW tokens) to `prompts` with the parrot in them, placed as {@link measureParrot} does. */
export function parrotAnswers(
  model: TfGPT,
  parrot: Parrot,
  tokenizer: Tokenizer,
  prompts: readonly Example[],
  layout: ParrotLayout,
  positions?: readonly ParrotPosition[],
): Promise<string[]> {
  const at = rotate(layout, positions);
  return greedyAnswers(
    { config: model.config, weights: model.toWeights(), softTokens: parrot.values() },
    prompts.map((e, i) => ({ prompt: parrotPromptIds(tokenizer, e, at(i)), maxTokens: ASR_WINDOW })),
  );
}
