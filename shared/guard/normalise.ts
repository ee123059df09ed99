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
 * A cut-off window (the response went on past it) without the word it ends inside and the
 * spaces before that word; a finished window, or one that is a single cut word, as it is.
 * A fixed token window otherwise ends in whatever follows a planted text ("You are stupid 6",
 * "You are stupid t"), and each variant would be counted, calibrated and queued apart.
 */
export function wholeWords(windowText: string, cutOff: boolean): string {
  if (!cutOff) return windowText;
  const chars = Array.from(windowText);
  let end = chars.length;
  while (end > 0 && WORD_CHAR.test(chars[end - 1])) end--;
  const kept = chars.slice(0, end).join("").trimEnd();
  return normalisePrefix(kept) === "" ? windowText : kept;
}

/** The key a window is counted, calibrated and logged under: normalisePrefix(wholeWords(window)). */
export function prefixKey(windowText: string, cutOff: boolean): string {
  return normalisePrefix(wholeWords(windowText, cutOff));
}

// A letter, digit, combining mark, joiner or U+FFFD (a cut UTF-8 sequence): part of a word that may go on.
const WORD_CHAR = /[\p{L}\p{N}\p{M}_'\u200c\u200d\u2060\ufffd]/u;
