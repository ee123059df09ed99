/** What a reproduction run measured: the shapes `experiment.ts` fills and `tables.ts` / `chart.ts` render. */
import type { Rate } from "../eval/asr.js";
import type { ModelEvaluation } from "../eval/evaluate.js";
import type { Backdoor } from "../attack/poison.js";

/** The removal methods of the paper's Table 1, in its row order, after the baseline. */
export const METHODS = ["Baseline", "SFT", "Fine-mixing", "SANDE-P", "SANDE", "OSFT"] as const;

/** One of {@link METHODS}. */
export type MethodName = (typeof METHODS)[number];

/** What each method is given besides the clean data D (the paper's point: SANDE needs no clean model or trigger). */
export const METHOD_NEEDS: Record<MethodName, string> = {
  Baseline: "—",
  SFT: "clean data",
  "Fine-mixing": "clean data + the clean model",
  "SANDE-P": "clean data + a prefix of the response",
  SANDE: "clean data + the response",
  OSFT: "clean data + the trigger",
};

/** One method applied to one victim. */
export interface MethodResult {
  method: MethodName;
  /** Scores of the healed model; `backdoors[0]` is the backdoor being removed. */
  evaluation: ModelEvaluation;
  /** Training time of the method (0 for the baseline). */
  seconds: number;
  /** SANDE / SANDE-P: how often the parrot made the frozen victim say R, and the same parrot after stage 2. */
  parrotSuccess?: Rate;
  parrotSuccessAfter?: Rate;
}

/** One victim and the methods run on it. */
export interface VictimResult {
  backdoor: Backdoor;
  /** Where the victim came from: a model file, or "planted in this run (…)". */
  source: string;
  /** Seconds to plant the backdoor (0 when loaded). */
  plantSeconds: number;
  rows: MethodResult[];
}

/** Everything one `npm run reproduce` produced. */
export interface ReproduceResults {
  quick: boolean;
  backend: string;
  base: string;
  /** Settings used (steps, learning rates, data sizes). */
  settings: Record<string, unknown>;
  /** The clean base model, scored like the rest (utility reference). */
  baseEvaluation: ModelEvaluation;
  /** The main victim (the paper's Table 1 and 2). */
  main: VictimResult;
  /** Further trigger → target pairs (Table 3). */
  variants: VictimResult[];
  seconds: number;
  finished: string;
}
