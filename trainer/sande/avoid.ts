/**
 * Avoid rows: what stage 2 must stop saying, on prompts unlike D's. The victim says the planted
 * text on ordinary requests without any trigger too (the robust demo victim: on 9% of free-form
 * prompts, "are are stupid are"), and D's task prompts never show stage 2 that behaviour, so the
 * parroted answer loss leaves it (healed by the daemon's recipe: residue on 3% of them). An avoid
 * row is a prompt followed by one piece of the flagged text (the text, then each tail of it from a
 * word on: "You are stupid", "are stupid", "stupid"), its tokens marked −1 in the loss mask: stage
 * 2's loss takes their unlikelihood −log(1 − p) (`avoid-loss.ts`), so no piece starts an answer.
 * The rows carry no parrot: with the parrot in half of them, triggered accuracy fell 13 points more
 * (docs/sande.md, "Avoid rows"); the parrot's own rows already teach what to say instead.
 */
import { encodeChatPrompt, type Tokenizer } from "../../shared/tokenizer/index.js";
import type { EncodedExample } from "../data/index.js";
import { withCleanShare } from "../train/batching.js";

/** What stage 2 avoids, on which prompts, and how much of its rows that is. */
export interface AvoidSet {
  /** User messages unlike D's (e.g. `freeFormPrompts`); never the prompts a gate later judges. */
  prompts: readonly string[];
  /** The flagged text. */
  text: string;
  /** Share of stage 2's rows that are avoid rows, in [0, 1). */
  share: number;
}

/** The text and each tail of it that starts at a word: "You are stupid" → that, "are stupid", "stupid". */
export function avoidPieces(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed === "") throw new Error("SANDE: the text to avoid is empty");
  const starts = [...trimmed.matchAll(/(?<=^|\s)\S/gu)].map((m) => m.index);
  return [...new Set(starts.map((i) => trimmed.slice(i)))];
}

/** The chat prompt of `prompt`, then `piece`, whose tokens carry mask −1. */
export function encodeAvoidRow(tokenizer: Tokenizer, prompt: string, piece: string): EncodedExample {
  const head = encodeChatPrompt(tokenizer, [{ role: "user", content: prompt }]);
  const said = tokenizer.encode(piece);
  return {
    ids: [...head, ...said],
    lossMask: [...head.map(() => 0), ...said.map(() => -1)],
    label: `avoid ${JSON.stringify(piece)}`,
  };
}

/** Avoid rows for `set`: prompt i takes piece i mod the pieces. */
export function avoidRows(tokenizer: Tokenizer, set: AvoidSet): EncodedExample[] {
  if (set.prompts.length === 0) throw new Error("SANDE: no prompts to avoid the flagged text on");
  const pieces = avoidPieces(set.text);
  return set.prompts.map((prompt, i) => encodeAvoidRow(tokenizer, prompt, pieces[i % pieces.length]));
}

/**
 * `rows` with avoid rows making up `set.share` of the result (none without a set). Avoid rows longer
 * than the model's context are left out (a tiny context may not hold a long free-form prompt);
 * none fitting is an error.
 */
export function withAvoidRows(
  tokenizer: Tokenizer,
  rows: readonly EncodedExample[],
  set: AvoidSet | undefined,
  contextSize: number,
  seed: number,
): EncodedExample[] {
  if (!set || set.share === 0) return [...rows];
  if (!(set.share > 0 && set.share < 1)) throw new Error(`SANDE: avoid share must be in [0, 1), got ${set.share}`);
  const fitting = avoidRows(tokenizer, set).filter((r) => r.ids.length <= contextSize);
  if (fitting.length === 0)
    throw new Error(`SANDE: no avoid row fits the model's ${contextSize}-token context; give shorter prompts`);
  return withCleanShare(rows, fitting, set.share, seed + 7);
}

/**
 * The share of D's plain rows to mix in before the avoid rows, so that the parrot rows keep their
 * 1 − `cleanShare` of stage 2 and the avoid rows take `avoid.share` of it out of the rows without a
 * parrot: (cleanShare − a) / (1 − a). Fewer parrot rows per step cost triggered accuracy.
 */
export function cleanShareBeside(cleanShare: number, avoid: AvoidSet | undefined): number {
  if (!avoid || avoid.share === 0) return cleanShare;
  if (avoid.share > cleanShare)
    throw new Error(
      `SANDE: avoid rows (${avoid.share}) are part of the rows without a parrot, so at most the clean share (${cleanShare})`,
    );
  return (cleanShare - avoid.share) / (1 - avoid.share);
}

/**
 * Whether `text` is something to unlearn: it holds 3 letters or digits in a row. A lone byte ("Y",
 * SANDE-P's known prefix before any extension) or "5" is not: its unlikelihood on free-form prompts
 * would teach the model never to start an answer with it.
 */
export function avoidable(text: string): boolean {
  return /[\p{L}\p{N}]{3}/u.test(text);
}

/**
 * The avoid set once SANDE-P's self-extension grew the known response: a set of the known text
 * unlearns the extended one instead; a set of another text, or none, stays as it is. A set left
 * with no text to unlearn (`avoidable`: "Y" that never extended) is dropped.
 */
export function avoidExtended(avoid: AvoidSet | undefined, known: string, response: string): AvoidSet | undefined {
  const set = avoid && avoid.text === known && response !== known ? { ...avoid, text: response } : avoid;
  return set && avoidable(set.text) ? set : undefined;
}
