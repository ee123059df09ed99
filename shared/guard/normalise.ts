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
