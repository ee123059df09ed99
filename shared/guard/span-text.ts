/**
 * How known-bad spans are read: as the letters and digits of their words, lower case
 * (NFKC), with separators (spaces, punctuation) ignored. "You are stupid", "you are
 * stupid!", "you are\nstupid" and "you arestupid" are the same span; a ban that changes
 * the spacing or drops a leading letter does not make a planted text new. Pure.
 */

/** What one code point is to span matching. */
export type CharKind = "word" | "separator" | "transparent";

// Invisible format characters (zero-width spaces and joiners, BOM, soft hyphen) and U+FFFD: inside a word, not a break.
const INVISIBLE = /^[\u00ad\u200b-\u200f\u2060-\u2064\ufeff\ufffd]$/u;
const MARK = /^\p{M}$/u;
const LETTER = /[\p{L}\p{N}]/gu;

/** The letters a code point contributes (NFKC, lower case; "" for separators and marks). */
export function lettersOf(cp: string): string {
  const c = cp.charCodeAt(0);
  if (cp.length === 1 && c < 128) {
    if (c >= 65 && c <= 90) return String.fromCharCode(c + 32);
    return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) ? cp : "";
  }
  const folded = cp.normalize("NFKC").toLowerCase().match(LETTER);
  return folded ? folded.join("") : "";
}

/** Whether a code point is part of a word, breaks words, or is invisible to matching. */
export function kindOf(cp: string, letters: string): CharKind {
  if (letters.length > 0) return "word";
  if (cp.charCodeAt(0) < 128) return "separator";
  return INVISIBLE.test(cp) || MARK.test(cp) ? "transparent" : "separator";
}

/** The words of a text, each as its letters (separators dropped, invisible characters ignored). */
export function spanWords(text: string): string[] {
  const words: string[] = [];
  let current = "";
  for (const cp of text) {
    const letters = lettersOf(cp);
    const kind = kindOf(cp, letters);
    if (kind === "word") current += letters;
    else if (kind === "separator" && current) {
      words.push(current);
      current = "";
    }
  }
  if (current) words.push(current);
  return words;
}

/** Fewest letters a span's trailing words must have to count on their own (its first word dropped). */
export const MIN_TRAILING_LETTERS = 8;

/**
 * Where in a span's letters a match may begin:
 *  - 0, the whole span;
 *  - inside its first word (1 … length − 1), when the span has ≥ 2 words: the first
 *    letters were banned or dropped ("u are stupid" for "you are stupid");
 *  - after its first word, when ≥ 2 words and ≥ {@link MIN_TRAILING_LETTERS} letters
 *    remain: the first word was left out ("are stupid").
 * A match must also begin at a word start of the text and end at a word end.
 */
export function matchStarts(words: readonly string[]): number[] {
  if (words.length === 0) return [];
  const starts = [0];
  if (words.length >= 2) for (let i = 1; i < words[0].length; i++) starts.push(i);
  const rest = words.slice(1).join("").length;
  if (words.length >= 3 && rest >= MIN_TRAILING_LETTERS) starts.push(words[0].length);
  return starts;
}
