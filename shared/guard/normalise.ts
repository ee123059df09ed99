/**
 * Prefix normalisation, shared by the Worker's guard and the trainer: two responses
 * that start "the same" for a person map to the same key.
 *
 * Steps: Unicode NFKC (full-width and compatibility forms fold), lower case, drop
 * invisible format characters (zero-width spaces and joiners, BOM, soft hyphen) and
 * U+FFFD (a byte-level window can cut a UTF-8 sequence), collapse every run of
 * whitespace to one space, trim.
 */
export function normalisePrefix(text: string): string {
  if (text.length === 0) return text;
  let s = text;
  // ASCII fast path: NFKC is the identity on ASCII, so skip it (most responses).
  if (!ASCII.test(s)) s = s.normalize("NFKC").replace(INVISIBLE, "");
  return s.toLowerCase().replace(SPACES, " ").trim();
}

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/;
const INVISIBLE = /[\u00ad\u200b-\u200f\u2060-\u2064\ufeff\ufffd]/g;
const SPACES = /\s+/g;

/**
 * The key a response's held-back window is counted and logged under: normalisePrefix()
 * of the window, and when the window was cut off (the response went on past it) without
 * its last word, that word dropped. A fixed token window otherwise ends inside whatever
 * follows a planted text, so "You are stupid 6…" and "You are stupid t…" would split into
 * one prefix per first letter and none of them would recur. A window that is one cut word
 * is kept whole.
 */
export function prefixKey(windowText: string, cutOff: boolean): string {
  if (!cutOff) return normalisePrefix(windowText);
  const chars = Array.from(windowText);
  let end = chars.length;
  while (end > 0 && WORD_CHAR.test(chars[end - 1])) end--;
  return normalisePrefix(end > 0 && normalisePrefix(chars.slice(0, end).join("")) !== "" ? chars.slice(0, end).join("") : windowText);
}

// A letter, digit, combining mark, joiner or U+FFFD (a cut UTF-8 sequence): part of a word that may go on.
const WORD_CHAR = /[\p{L}\p{N}\p{M}_'\u200c\u200d\u2060\ufffd]/u;
