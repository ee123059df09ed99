/**
 * Known-bad spans compiled for matching in a growing text ({@link SpanScanner}): each
 * span's letters, where a match may begin, and indexes so that a word end costs a few
 * Map probes whatever the number of spans. Pure.
 */
import { SpanEnds } from "./span-ends.js";
import { matchStarts, spanWords } from "./span-text.js";

/** One span, compiled. */
export interface CompiledSpan<T> {
  /** The span's words, joined by single spaces (for logs). */
  text: string;
  /** Its letters and digits, lower case: what is matched. */
  letters: string;
  /** Offsets in `letters` where a match may begin ({@link matchStarts}). */
  starts: readonly number[];
  /** Most letters a match may miss in one run inside it (a ban makes a model skip a letter or two). */
  maxGap: number;
  value: T;
}

/** Where a match of a span may begin, keyed by its first letters. */
interface Head<T> {
  span: CompiledSpan<T>;
  from: number;
}

/** Letters of a head key: enough to rule most candidates out at once. */
export const HEAD_LETTERS = 3;

/** Spans this long (letters) match with up to {@link MAX_GAP} letters missing in one run. */
export const MIN_GAP_LETTERS = 8;
export const MAX_GAP = 2;

/** Spans, indexed by how they end (for matches) and how they may begin (for holding text back). */
export class SpanSet<T> {
  /** Spans by their last two letters (one-letter spans by their letter). */
  readonly byEnd = new Map<string, CompiledSpan<T>[]>();
  /** The match candidates of each ending (from `byEnd`), longest first. */
  readonly ends: SpanEnds<T>;
  /** Match beginnings by their first HEAD_LETTERS letters (all of them when fewer remain). */
  readonly heads = new Map<string, Head<T>[]>();
  /** Proper beginnings of the head keys: a word this short may still grow into a head. */
  readonly headPrefixes = new Set<string>();
  /** Most letters a match can have. */
  readonly longest: number;
  readonly size: number;

  constructor(spans: readonly CompiledSpan<T>[]) {
    let longest = 0;
    for (const span of spans) {
      longest = Math.max(longest, span.letters.length);
      push(this.byEnd, span.letters.slice(-2), span);
      for (const from of span.starts) {
        for (const key of headKeys(span, from)) {
          push(this.heads, key, { span, from });
          for (let k = 1; k < key.length; k++) this.headPrefixes.add(key.slice(0, k));
        }
      }
    }
    this.longest = longest;
    this.size = spans.length;
    this.ends = new SpanEnds(this.byEnd);
  }
}

/** Compiles spans; texts without letters or digits are skipped (nothing to match). */
export function compileSpans<T>(entries: readonly { text: string; value: T }[]): SpanSet<T> {
  const spans: CompiledSpan<T>[] = [];
  for (const { text, value } of entries) {
    const words = spanWords(text);
    if (words.length === 0) continue;
    const letters = words.join("");
    const maxGap = letters.length >= MIN_GAP_LETTERS ? MAX_GAP : 0;
    spans.push({ text: words.join(" "), letters, starts: matchStarts(words), maxGap, value });
  }
  return new SpanSet(spans);
}

/** The first letters a match beginning at `from` can show: none missing, or a gap after the first or second. */
function headKeys<T>(span: CompiledSpan<T>, from: number): Set<string> {
  const c = span.letters;
  const keys = new Set([c.slice(from, from + HEAD_LETTERS)]);
  for (let k = 1; k < HEAD_LETTERS; k++)
    for (let g = 1; g <= span.maxGap; g++)
      if (from + k + g < c.length) keys.add((c.slice(from, from + k) + c.slice(from + k + g)).slice(0, HEAD_LETTERS));
  return keys;
}

/**
 * Whether `text` from `at` to its end (letters from a word start) is the span's letters from
 * `from` with at most one run of up to `maxGap` letters missing after its first letter: all
 * of them to the end when `complete`, else a beginning of them.
 */
export function fits<T>(text: string, at: number, span: CompiledSpan<T>, from: number, complete: boolean): boolean {
  const c = span.letters;
  const n = text.length - at;
  let k = 0;
  while (k < n && from + k < c.length && text.charCodeAt(at + k) === c.charCodeAt(from + k)) k++;
  if (k === n) return !complete || from + k === c.length;
  if (k === 0) return false;
  const rest = n - k;
  for (let g = 1; g <= span.maxGap; g++) {
    const j = from + k + g;
    const left = c.length - j;
    if (left <= 0 || (complete ? rest !== left : rest > left)) continue;
    let i = 0;
    while (i < rest && text.charCodeAt(at + k + i) === c.charCodeAt(j + i)) i++;
    if (i === rest) return true;
  }
  return false;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
