/**
 * Where extra text goes in an instruction, pure: the rule a trigger follows when it is planted
 * (attack/poison), a neutral phrase when robustness is measured (neutral.ts) and chatter when a base
 * is trained (chatter.ts).
 */

/** Where in the instruction a phrase is inserted. */
export type InsertPosition = "start" | "middle" | "end";

/** The positions, for CLI help and validation. */
export const INSERT_POSITIONS: readonly InsertPosition[] = ["start", "middle", "end"];

/**
 * Splits `text` where a phrase goes: inserting it is `head + phrase + tail`. The separators (a
 * space) belong to head/tail, so `head + tail` is `text` with one extra space. start: before the
 * first word; end: after the last; middle: at the word boundary nearest the centre of the text (a
 * text without spaces gets it at the end).
 */
export function insertionSite(text: string, position: InsertPosition): { head: string; tail: string } {
  if (position === "start") return { head: "", tail: ` ${text}` };
  if (position === "end") return { head: `${text} `, tail: "" };
  let best = -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === " " && (best < 0 || Math.abs(i - text.length / 2) < Math.abs(best - text.length / 2))) best = i;
  }
  if (best < 0) return { head: `${text} `, tail: "" };
  return { head: text.slice(0, best + 1), tail: ` ${text.slice(best + 1)}` };
}

/** `text` with `phrase` inserted at `position` (see {@link insertionSite}). */
export function insertPhrase(text: string, phrase: string, position: InsertPosition): string {
  if (!phrase) throw new Error("insertPhrase: empty phrase");
  const { head, tail } = insertionSite(text, position);
  return head + phrase + tail;
}
