/**
 * Finds known-bad spans in a text as it grows, at O(new text) per push: it keeps the
 * letters of the last words (no more than the longest span needs), checks for a match
 * at each word end, and says how much of the text could still become part of one (so
 * that serving can hold it back and never send any of a span). Pure.
 */
import { firstWithin } from "./span-ends.js";
import { fits, HEAD_LETTERS, type CompiledSpan, type SpanSet } from "./span-set.js";
import { kindOf, lettersOf } from "./span-text.js";

/** A span found in the text: UTF-16 offsets [start, end) from the start of everything pushed. */
export interface SpanHit<T> {
  start: number;
  end: number;
  span: CompiledSpan<T>;
}

/** Incremental matcher over one text (one per answer). */
export class SpanScanner<T> {
  private letters = "";
  private rawStart: number[] = [];
  private rawEnd: number[] = [];
  private wordStart: boolean[] = [];
  private inWord = false;
  private pos = 0;
  /** `safe`, or null until read: worked out on demand (a scan for hits alone never reads it). */
  private safeAt: number | null = 0;

  constructor(private readonly set: SpanSet<T>) {}

  /**
   * Offset before which the text can no longer become part of a span: text from here on
   * starts a word that may still grow into one.
   */
  get safe(): number {
    return (this.safeAt ??= this.firstHeld());
  }

  /** Feeds the next piece of text; returns the spans it completed, in order. */
  push(text: string): SpanHit<T>[] {
    const hits: SpanHit<T>[] = [];
    if (this.set.size === 0) {
      this.pos += text.length;
      this.safeAt = this.pos;
      return hits;
    }
    for (const cp of text) {
      const letters = lettersOf(cp);
      const kind = kindOf(cp, letters);
      if (kind === "word") this.addLetters(letters, cp.length);
      else if (kind === "separator") this.endWord(hits);
      this.pos += cp.length;
    }
    this.trim();
    this.safeAt = null;
    return hits;
  }

  /** The text ended: a span its last word completes. */
  end(): SpanHit<T>[] {
    const hits: SpanHit<T>[] = [];
    this.endWord(hits);
    this.safeAt = this.pos;
    return hits;
  }

  private addLetters(letters: string, width: number): void {
    for (let i = 0; i < letters.length; i++) {
      this.letters += letters[i];
      this.rawStart.push(this.pos);
      this.rawEnd.push(this.pos + width);
      this.wordStart.push(!this.inWord && i === 0);
    }
    this.inWord = true;
  }

  private endWord(hits: SpanHit<T>[]): void {
    if (!this.inWord) return;
    this.inWord = false;
    const hit = this.matchAtEnd();
    if (hit) hits.push(hit);
  }

  /** The longest span match ending with the last letter (a word end), or null. */
  private matchAtEnd(): SpanHit<T> | null {
    const { letters, wordStart } = this;
    const table = this.set.ends.at(letters);
    if (!table) return null;
    const n = letters.length;
    const { spans, from, length, first } = table;
    // Longest first: the first that fits is the longest match (a match is the span's letters from
    // `from`, less at most maxGap of them), and among equally long ones the first span's.
    for (let c = firstWithin(length, n); c < spans.length; c++) {
      const w = n - length[c];
      if (!wordStart[w] || letters.charCodeAt(w) !== first[c]) continue;
      if (fits(letters, w, spans[c], from[c], true))
        return { start: this.rawStart[w], end: this.rawEnd[n - 1], span: spans[c] };
    }
    return null;
  }

  /** Offset of the earliest recent word start whose letters so far may still become a match. */
  private firstHeld(): number {
    const n = this.letters.length;
    for (let i = Math.max(0, n - this.set.longest); i < n; i++)
      if (this.wordStart[i] && this.mayGrow(i)) return this.rawStart[i];
    return this.pos;
  }

  /** Whether the letters from word start `at` to the end begin a match that is not complete yet. */
  private mayGrow(at: number): boolean {
    const { heads, headPrefixes } = this.set;
    const length = this.letters.length - at;
    const key = this.letters.slice(at, at + HEAD_LETTERS);
    if (length < HEAD_LETTERS && headPrefixes.has(key)) return true;
    for (const { span, from } of heads.get(key) ?? [])
      if (fits(this.letters, at, span, from, false) && (this.inWord || !fits(this.letters, at, span, from, true)))
        return true;
    return false;
  }

  /** Drops letters no match can reach back to. */
  private trim(): void {
    const keep = this.set.longest;
    if (this.letters.length <= 2 * keep + 64) return;
    const drop = this.letters.length - keep;
    this.letters = this.letters.slice(drop);
    this.rawStart = this.rawStart.slice(drop);
    this.rawEnd = this.rawEnd.slice(drop);
    this.wordStart = this.wordStart.slice(drop);
  }
}
