/**
 * Which tokens a served text holds. The guard may strip the start of an answer (redact)
 * and a stop string may cut its end, both counted in characters, while logprobs are per
 * token; a token is reported once all of the text it produced has been served, and
 * never when any of it was withheld. Pure.
 */

/** A token and where its text sits in the served text. */
export interface PlacedToken<T> {
  item: T;
  /** UTF-16 offset of the token's text in the served text (OpenAI's `text_offset`). */
  offset: number;
}

interface Span<T> {
  item: T;
  start: number;
  end: number;
}

/**
 * Tracks the text each token produced (positions in the model's own text, before
 * redaction and stop strings) and releases tokens as the served window grows.
 * Tokens whose text is still incomplete (the first bytes of a UTF-8 character) share
 * the span of the text that completes them.
 */
export class TokenAligner<T> {
  private pending: T[] = [];
  private queue: Span<T>[] = [];
  private head = 0;
  private length = 0;

  /** Adds `item` (a token; undefined for text that ends decoding, e.g. a flush) and the text it produced. */
  push(item: T | undefined, text: string): void {
    if (item !== undefined) this.pending.push(item);
    if (text.length === 0) return;
    const start = this.length;
    this.length += text.length;
    for (const p of this.pending) this.queue.push({ item: p, start, end: this.length });
    this.pending = [];
  }

  /**
   * Tokens whose text lies wholly inside the served window [from, to) of the model's text,
   * in order, each once. Tokens whose text starts before `from` (withheld) are dropped.
   * `from` and `to` must not decrease between calls.
   */
  take(from: number, to: number): PlacedToken<T>[] {
    const out: PlacedToken<T>[] = [];
    while (this.head < this.queue.length) {
      const span = this.queue[this.head];
      if (span.start < from) {
        this.head++; // (partly) withheld: never reported
        continue;
      }
      if (span.end > to) break;
      out.push({ item: span.item, offset: span.start - from });
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}
