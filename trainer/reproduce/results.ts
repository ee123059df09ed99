/** What a reproduction run measured: the shapes `experiment.ts` fills and `tables.ts` / `chart.ts` render. */
import type { Rate } from "../eval/asr.js";
import type { ModelEvaluation } from "../eval/evaluate.js";
import type { Backdoor } from "../attack/poison.js";

/**
 * The removal methods of the paper's Table 1, in its row order, after the baseline, then our extra
 * rows: SANDE-P knowing the first word (the paper's SANDE-P knows the first token), and two
 * ablations of SANDE (the parrot left at zero; the paper's clean share 0 against our 0.5).
 */
export const METHODS = [
  "Baseline",
  "SFT",
  "Fine-mixing",
  "NAD",
  "DPO",
  "SANDE-P",
  "SANDE-P (first word)",
  "SANDE",
  "OSFT",
  "SANDE, parrot at zero",
  "SANDE, clean share 0",
] as const;

/** One of {@link METHODS}. */
export type MethodName = (typeof METHODS)[number];

/** What each method is given besides the clean data D (the paper's point: SANDE needs no clean model or trigger). */
export const METHOD_NEEDS: Record<MethodName, string> = {
  Baseline: "—",
  SFT: "clean data",
  "Fine-mixing": "clean data + the clean model",
  NAD: "clean data",
  DPO: "clean data + the response",
  "SANDE-P": "clean data + the response's first token (one byte)",
  "SANDE-P (first word)": "clean data + the response's first word",
  SANDE: "clean data + the response",
  OSFT: "clean data + the trigger",
  "SANDE, parrot at zero": "clean data (stage 1 skipped)",
  "SANDE, clean share 0": "clean data + the response",
};

/** The SANDE-family rows: each has a parrot whose success the report gives. */
export const SANDE_METHODS: readonly MethodName[] = [
  "SANDE-P",
  "SANDE-P (first word)",
  "SANDE",
  "SANDE, parrot at zero",
  "SANDE, clean share 0",
];

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
  /** SANDE-P with self-extension: the response its stage 2 unlearnt, as the victim's answers under the parrot spelt it. */
  extendedTo?: string;
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
