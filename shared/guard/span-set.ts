/**
 * Known-bad spans compiled for matching in a growing text ({@link SpanScanner}): each
 * span's letters, where a match may begin, and indexes so that a word end costs a few
 * Map probes whatever the number of spans. Pure.
 */
import { matchStarts, spanWords } from "./span-text.js";

/** One span, compiled. */
export interface CompiledSpan<T> {
  /** The span's words, joined by single spaces (for logs). */
  text: string;
  /** Its letters and digits, lower case: what is matched. */
  letters: string;
  /** Offsets in `letters` where a match may begin ({@link matchStarts}). */
  starts: readonly number[];
  value: T;
}

/** Where a match of a span may begin, keyed by its first letters. */
interface Head<T> {
  span: CompiledSpan<T>;
  from: number;
}

/** Letters of a head key: enough to rule most candidates out at once. */
export const HEAD_LETTERS = 3;

/** Spans, indexed by how they end (for matches) and how they may begin (for holding text back). */
export class SpanSet<T> {
  /** Spans by their last two letters (one-letter spans by their letter). */
  readonly byEnd = new Map<string, CompiledSpan<T>[]>();
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
        const key = span.letters.slice(from, from + HEAD_LETTERS);
        push(this.heads, key, { span, from });
        for (let k = 1; k < key.length; k++) this.headPrefixes.add(key.slice(0, k));
      }
    }
    this.longest = longest;
    this.size = spans.length;
  }
}

/** Compiles spans; texts without letters or digits are skipped (nothing to match). */
export function compileSpans<T>(entries: readonly { text: string; value: T }[]): SpanSet<T> {
  const spans: CompiledSpan<T>[] = [];
  for (const { text, value } of entries) {
    const words = spanWords(text);
    if (words.length === 0) continue;
    spans.push({ text: words.join(" "), letters: words.join(""), starts: matchStarts(words), value });
  }
  return new SpanSet(spans);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
