/**
 * What a span match ending at a word end can be, laid out once per span set: for each
 * ending of the text's letters, every (span, start in its letters, letters matched) in
 * typed arrays, longest match first. The scanner's first candidate that fits is then the
 * match it reports (the longest, earliest among equals), with no per-candidate allocation
 * and most candidates ruled out by two array reads. Pure.
 */
import type { CompiledSpan } from "./span-set.js";

/** Match candidates of one ending, longest first (ties in span, start, length order). */
export interface EndCandidates<T> {
  spans: readonly CompiledSpan<T>[];
  /** Offset in the span's letters where the match begins. */
  from: Int32Array;
  /** Letters of the text the match covers: the span's from `from`, less a gap of 0 … maxGap. */
  length: Int32Array;
  /** The span's letter at `from`, as a UTF-16 code: the text must show it where the match begins. */
  first: Int32Array;
}

/** Candidates by the last two letters of the text (and by the last one, for one-letter spans). */
export class SpanEnds<T> {
  private readonly two = new Map<string, EndCandidates<T>>();
  private readonly one = new Map<string, EndCandidates<T>>();

  /** `byEnd`: spans by their last two letters (one-letter spans by their letter). */
  constructor(byEnd: ReadonlyMap<string, readonly CompiledSpan<T>[]>) {
    for (const [key, spans] of byEnd) {
      if (key.length === 1) this.one.set(key, candidates(spans));
      else this.two.set(key, candidates([...spans, ...(byEnd.get(key.slice(-1)) ?? [])]));
    }
  }

  /** The candidates of a match ending with the last of `letters` (the text's letters so far), if any. */
  at(letters: string): EndCandidates<T> | undefined {
    if (letters.length < 2) return this.one.get(letters);
    return this.two.get(letters.slice(-2)) ?? this.one.get(letters.slice(-1));
  }
}

/** Index of the first candidate covering at most `n` letters (lengths fall along the list). */
export function firstWithin(length: Int32Array, n: number): number {
  let lo = 0;
  let hi = length.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (length[mid] > n) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function candidates<T>(spans: readonly CompiledSpan<T>[]): EndCandidates<T> {
  const list: { span: CompiledSpan<T>; from: number; length: number }[] = [];
  for (const span of spans)
    for (const from of span.starts) {
      const full = span.letters.length - from;
      for (let length = full; length >= Math.max(1, full - span.maxGap); length--) list.push({ span, from, length });
    }
  list.sort((a, b) => b.length - a.length); // stable: equal lengths keep their order
  return {
    spans: list.map((c) => c.span),
    from: Int32Array.from(list, (c) => c.from),
    length: Int32Array.from(list, (c) => c.length),
    first: Int32Array.from(list, (c) => c.span.letters.charCodeAt(c.from)),
  };
}
