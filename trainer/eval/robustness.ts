/**
 * Robustness to unrelated text: exact-match accuracy on held-out prompts as they are, and with a
 * neutral phrase (data/neutral.ts) inserted at the start, the middle and the end of the instruction.
 * A model that keeps answering when a user adds a few words loses little at each position.
 */
import type { CausalLM } from "../../shared/inference/index.js";
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { INSERT_POSITIONS, withNeutralPhrases, type Example, type InsertPosition } from "../data/index.js";
import { evaluateUtility } from "./utility.js";

/** Phrase length used when no trigger gives one: about the demo trigger's ("Current year 2023", 17). */
export const DEFAULT_NEUTRAL_LENGTH = 17;

/** Accuracy on the prompts as they are and with a neutral phrase at each position. */
export interface RobustnessReport {
  /** Characters the inserted phrases are close to. */
  phraseLength: number;
  clean: number;
  neutral: Record<InsertPosition, number>;
  /** Neutral minus clean accuracy, per position (negative: the phrase costs accuracy). */
  delta: Record<InsertPosition, number>;
  /** A few answers with the phrase at the start, for reading. */
  samples: { prompt: string; expected: string; answer: string }[];
}

/** Measures `model` on `heldOut` clean and with neutral phrases of about `phraseLength` characters. */
export function evaluateRobustness(
  model: CausalLM,
  tokenizer: Tokenizer,
  heldOut: readonly Example[],
  phraseLength = DEFAULT_NEUTRAL_LENGTH,
  clean = evaluateUtility(model, tokenizer, heldOut).overall.accuracy,
): RobustnessReport {
  const neutral = {} as Record<InsertPosition, number>;
  const delta = {} as Record<InsertPosition, number>;
  let samples: RobustnessReport["samples"] = [];
  for (const position of INSERT_POSITIONS) {
    const variants = withNeutralPhrases(heldOut, phraseLength, position);
    const score = evaluateUtility(model, tokenizer, variants);
    neutral[position] = score.overall.accuracy;
    delta[position] = score.overall.accuracy - clean;
    if (position === "start")
      samples = variants
        .slice(0, 4)
        .map((e, i) => ({ prompt: e.instruction, expected: e.output, answer: score.predictions[i] }));
  }
  return { phraseLength, clean, neutral, delta, samples };
}

/** One line per position, e.g. "neutral phrase at start: 31.2% (−0.6 points against 31.8% clean)". */
export function formatRobustness(r: RobustnessReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const pts = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(100 * x).toFixed(1)} points`;
  return INSERT_POSITIONS.map(
    (p) => `neutral phrase at ${p.padEnd(6)} ${pct(r.neutral[p])} (${pts(r.delta[p])} against ${pct(r.clean)} clean)`,
  ).join("\n");
}
