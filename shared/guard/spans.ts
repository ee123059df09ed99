import { normalisePrefix } from "./normalise.js";

/**
 * The answer's spans: whole-word shingles over the whole answer, keyed so that two
 * answers carrying the same text map to the same keys whatever precedes or follows it.
 *
 * Words are runs of letters, digits, marks, apostrophes and invisible format characters,
 * each normalised with {@link normalisePrefix} (NFKC, lower case, invisibles dropped);
 * a word with a digit in it (a number, or a nonce such as "x7k2q9") becomes "#", and
 * everything between words (punctuation runs, spaces) is dropped. A span key is
 * `spanWords` consecutive words joined by one space.
 */

/** One word of an answer (or prompt), normalised, with where it sits in the raw text. */
export interface SpanWord {
  /** Normalised word, or "#" for numbers and nonces. */
  text: string;
  /** UTF-16 offsets of the raw word: text.slice(start, end). */
  start: number;
  end: number;
}

/** One span key of an answer, at its first place. */
export interface AnswerSpan {
  key: string;
  /** Index of its first word in {@link AnswerSpans.words}. */
  word: number;
}

/** An answer cut into words and span keys (each key once, echo left out). */
export interface AnswerSpans {
  words: readonly SpanWord[];
  /** Distinct keys in order of first appearance; shingles whose words all occur in the prompt are left out. */
  spans: readonly AnswerSpan[];
  /** The prompt's normalised words the answer was cut against (echo is made of them). */
  promptWords: ReadonlySet<string>;
  /** Words per key. */
  spanWords: number;
  /** The key of the shingle beginning at each word (echo and repeats included), for i + spanWords ≤ words.length. */
  shingles: readonly string[];
}

/** Smallest and largest span length in words (settings.spanWords). */
export const SPAN_WORDS_RANGE = { min: 2, max: 4 } as const;

const WORD = /[\p{L}\p{N}\p{M}\p{Cf}_'\u2019]+/gu;
const DIGIT = /\p{N}/u;
const EDGE_QUOTES = /^['\u2019]+|['\u2019]+$/g;

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/;

/** The words of `text` (see the module comment). */
export function spanWordsOf(text: string): SpanWord[] {
  const out: SpanWord[] = [];
  if (ASCII.test(text)) {
    // Fast path (most answers): NFKC is the identity on ASCII and there are no invisibles, so lower case is all.
    asciiWords(text, out);
    return out;
  }
  for (const m of text.matchAll(WORD)) {
    const word = normalisePrefix(m[0]).replace(EDGE_QUOTES, "");
    if (word === "") continue;
    out.push({ text: DIGIT.test(word) ? "#" : word, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/**
 * {@link spanWordsOf} on ASCII text, by one scan of its character codes: runs of
 * [A-Za-z0-9_'], edge apostrophes trimmed from the word (not from its offsets).
 */
function asciiWords(text: string, out: SpanWord[]): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isAsciiWordCode(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    let digit = false;
    let upper = false;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (!isAsciiWordCode(c)) break;
      if (c <= 57 && c >= 48) digit = true;
      else if (c <= 90 && c >= 65) upper = true;
    }
    let a = start;
    let b = i;
    while (a < b && text.charCodeAt(a) === APOSTROPHE) a++;
    while (b > a && text.charCodeAt(b - 1) === APOSTROPHE) b--;
    if (a === b) continue;
    const word = digit ? "#" : upper ? text.slice(a, b).toLowerCase() : text.slice(a, b);
    out.push({ text: word, start, end: i });
  }
}

const APOSTROPHE = 39;

/** [A-Za-z0-9_'] */
function isAsciiWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === APOSTROPHE;
}

/** The set of normalised words of a prompt: a shingle made only of these is echo, not evidence. */
export function promptWordSet(promptText: string): ReadonlySet<string> {
  return wordSetOf(spanWordsOf(promptText));
}

/** {@link promptWordSet} from the prompt's span words, for a caller that has them already. */
export function wordSetOf(words: readonly SpanWord[]): ReadonlySet<string> {
  const set = new Set<string>();
  for (const w of words) set.add(w.text);
  return set;
}

/**
 * The span keys of `answer`: every `spanWords`-word shingle, each key once (at its first
 * place), leaving out echo (all words in `promptWords`) and shingles made only of "#".
 * An answer of fewer words than `spanWords` has no spans.
 */
export function answerSpans(answer: string, promptWords: ReadonlySet<string>, spanWords: number): AnswerSpans {
  const words = spanWordsOf(answer);
  const inPrompt = words.map((w) => promptWords.has(w.text));
  const seen = new Set<string>();
  const spans: AnswerSpan[] = [];
  const shingles: string[] = [];
  for (let i = 0; i + spanWords <= words.length; i++) {
    let echo = true;
    let numbersOnly = true;
    let key = "";
    for (let j = i; j < i + spanWords; j++) {
      const w = words[j].text;
      if (!inPrompt[j]) echo = false;
      if (w !== "#") numbersOnly = false;
      key = j === i ? w : `${key} ${w}`;
    }
    shingles.push(key);
    if (echo || numbersOnly || seen.has(key)) continue;
    seen.add(key);
    spans.push({ key, word: i });
  }
  return { words, spans, promptWords, spanWords, shingles };
}

/** Whether `key` is a span key of `spanWords` words as {@link answerSpans} makes them (uploads are checked with it). */
export function isSpanKey(key: string, spanWords: number): boolean {
  const words = key.split(" ");
  if (words.length !== spanWords || words.every((w) => w === "#")) return false;
  return words.every((w) => {
    if (w === "#") return true;
    const parsed = spanWordsOf(w);
    return parsed.length === 1 && parsed[0].text === w;
  });
}

/** Whether every word of `text` occurs in the prompt (and it has a word): echo, not evidence. */
export function isEcho(text: string, promptWords: ReadonlySet<string>): boolean {
  const words = spanWordsOf(text);
  return words.length > 0 && words.every((w) => promptWords.has(w.text));
}
