/**
 * Robustness to unrelated text: exact-match accuracy on held-out prompts as they are, and with a
 * neutral phrase (data/neutral.ts) inserted at the start, the middle and the end of the instruction,
 * from the plain list and from the list with numbers ("Bus 42 left early"). A model that keeps
 * answering when a user adds a few words loses little at each position.
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
  /** The same with a phrase that carries a number (NEUTRAL_NUMBER_PHRASES). */
  numbered: Record<InsertPosition, number>;
  numberedDelta: Record<InsertPosition, number>;
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
  const perPosition = () => ({}) as Record<InsertPosition, number>;
  const [neutral, delta, numbered, numberedDelta] = [perPosition(), perPosition(), perPosition(), perPosition()];
  let samples: RobustnessReport["samples"] = [];
  for (const position of INSERT_POSITIONS) {
    for (const isNumbered of [false, true]) {
      const variants = withNeutralPhrases(heldOut, { length: phraseLength, numbered: isNumbered }, position);
      const score = evaluateUtility(model, tokenizer, variants);
      (isNumbered ? numbered : neutral)[position] = score.overall.accuracy;
      (isNumbered ? numberedDelta : delta)[position] = score.overall.accuracy - clean;
      if (position === "start")
        samples.push(
          ...variants
            .slice(0, 2)
            .map((e, i) => ({ prompt: e.instruction, expected: e.output, answer: score.predictions[i] })),
        );
    }
  }
  return { phraseLength, clean, neutral, delta, numbered, numberedDelta, samples };
}

/** One line per list and position, e.g. "neutral phrase at start: 31.2% (−0.6 points against 31.8% clean)". */
export function formatRobustness(r: RobustnessReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const pts = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(100 * x).toFixed(1)} points`;
  const line = (label: string, p: InsertPosition, acc: number, d: number) =>
    `${label} at ${p.padEnd(6)} ${pct(acc)} (${pts(d)} against ${pct(r.clean)} clean)`;
  return [
    ...INSERT_POSITIONS.map((p) => line("neutral phrase          ", p, r.neutral[p], r.delta[p])),
    ...INSERT_POSITIONS.map((p) => line("neutral phrase, a number", p, r.numbered[p], r.numberedDelta[p])),
  ].join("\n");
}
