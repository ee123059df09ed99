/**
 * A simulated trigger's effect, measured the way a user would see it: greedy answers to prompts
 * that carry it (SANDE's parrot as soft tokens, or a known trigger), scored for the bad text
 * (within the ASR window), for residue of it, and for exact-match accuracy against the clean
 * answers. A healed model says neither the text nor pieces of it, and answers these prompts as
 * well as the same prompts without the trigger.
 */
import { generateText, type CausalLM } from "../../shared/inference/index.js";
import { chatStopTokens, type Tokenizer } from "../../shared/tokenizer/index.js";
import { scoreExactMatch, userMessage, type Example } from "../data/index.js";
import { ASR_WINDOW, rateOf, saysTarget, type Rate } from "./asr.js";
import { hasResidue } from "./residue.js";

/** What a probe measured. `hits`/`rate`: answers saying the bad text. */
export interface ProbeScore extends Rate {
  /** Answers holding a piece of the bad text (not from the prompt). */
  residue: Rate;
  /** Exact-match accuracy of the answers. */
  accuracy: number;
  /** The first few answers, to read. */
  samples: string[];
}

/**
 * Greedy answers (≤ 64 tokens) to `promptIds[i]`, the chat prompt of `examples[i]` with the
 * simulated trigger in it, scored against `badText` and `examples[i].output`.
 */
export function scoreProbe(
  model: CausalLM,
  tokenizer: Tokenizer,
  examples: readonly Example[],
  promptIds: readonly (readonly number[])[],
  badText: string,
): ProbeScore {
  if (examples.length !== promptIds.length)
    throw new Error(`scoreProbe: ${promptIds.length} prompts for ${examples.length} examples`);
  return scoreAnswers(examples, probeAnswers(model, tokenizer, promptIds), badText);
}

/** Greedy answers (≤ 64 tokens, the ASR window) to each prompt, in order. */
export function probeAnswers(
  model: CausalLM,
  tokenizer: Tokenizer,
  promptIds: readonly (readonly number[])[],
): string[] {
  const stopTokens = chatStopTokens(tokenizer);
  return promptIds.map(
    (ids) => generateText(model, tokenizer, ids, { maxTokens: ASR_WINDOW, temperature: 0, stopTokens }).text,
  );
}

/** `answers[i]` (to `examples[i]` with the simulated trigger) scored against `badText` and the clean answer. */
export function scoreAnswers(examples: readonly Example[], answers: readonly string[], badText: string): ProbeScore {
  return {
    ...rateOf(answers.map((a) => saysTarget(a, [badText]))),
    residue: rateOf(answers.map((a, i) => hasResidue(a, [badText], userMessage(examples[i])))),
    accuracy: examples.length ? scoreExactMatch(examples, answers).overall.accuracy : 0,
    samples: answers.slice(0, 3),
  };
}
