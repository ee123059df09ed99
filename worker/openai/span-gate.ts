/**
 * Between the model's text and what is sent: removes the character ranges the guard
 * withholds (a redacted window or span), holds back text that may still become a
 * known-bad span (the guard's {@link SpanWatch}), and cuts the answer before a span the
 * guard wants cut. What it releases comes as segments that say where their text sits in
 * the model's text, so tokens can be placed. Pure.
 */
import type { SpanWatch } from "../guard/contract.js";

/** Released text and its offset in the model's text (the text is contiguous there). */
export interface Segment {
  text: string;
  from: number;
}

/** Ranges [start, end) of the model's text to withhold, sorted and merged. */
type Ranges = [number, number][];

/** One answer's gate: fed the model's text in order, it releases what may be sent (see the file comment). */
export class SpanGate {
  private fed = 0;
  /** Offset in the model's text up to which everything was released or withheld. */
  private released = 0;
  /** The model's text from `released` to `fed`. */
  private buffer = "";
  private removals: Ranges = [];
  private cutAt: number | null = null;

  /** `removals`: ranges to withhold from the start (the guard's redact decision). */
  constructor(
    removals: readonly (readonly [number, number])[],
    private readonly watch: SpanWatch | undefined,
  ) {
    for (const [s, e] of removals) this.remove(s, e);
  }

  /** True once a span cut the answer (nothing after its start is released). */
  get cut(): boolean {
    return this.cutAt !== null;
  }

  /** Feeds the model's next text; returns what may be sent now. */
  push(text: string): Segment[] {
    if (this.cut) return [];
    this.buffer += text;
    this.fed += text.length;
    if (this.watch) this.apply(this.watch.push(text));
    if (this.cutAt !== null) return this.release(Math.max(this.released, this.cutAt));
    return this.release(this.watch ? Math.max(this.released, this.watch.safe) : this.fed);
  }

  /** The model's text ended: everything that is not withheld. */
  end(): Segment[] {
    if (this.cut) return [];
    if (this.watch) this.apply(this.watch.end());
    return this.release(this.cutAt ?? this.fed);
  }

  private apply(matches: ReturnType<SpanWatch["push"]>): void {
    for (const m of matches) {
      if (m.action === "redact") this.remove(m.start, m.end);
      else if (this.cutAt === null || m.start < this.cutAt) this.cutAt = m.start;
    }
  }

  private remove(start: number, end: number): void {
    if (end <= start) return;
    const merged: Ranges = [];
    let s = start;
    let e = end;
    for (const [a, b] of this.removals) {
      if (b < s || a > e) merged.push([a, b]);
      else {
        s = Math.min(s, a);
        e = Math.max(e, b);
      }
    }
    merged.push([s, e]);
    this.removals = merged.sort((x, y) => x[0] - y[0]);
  }

  /** Releases the model's text [released, upTo), less the removals. */
  private release(upTo: number): Segment[] {
    const out: Segment[] = [];
    let at = this.released;
    for (const [s, e] of this.removals) {
      if (e <= at) continue;
      if (s >= upTo) break;
      if (s > at) out.push(this.segment(at, s));
      at = Math.min(Math.max(at, e), upTo);
      at = this.skipLowSurrogate(at, upTo);
    }
    if (at < upTo) out.push(this.segment(at, upTo));
    this.buffer = this.buffer.slice(upTo - this.released);
    this.released = upTo;
    return out.filter((seg) => seg.text.length > 0);
  }

  private segment(from: number, to: number): Segment {
    let text = this.buffer.slice(from - this.released, to - this.released);
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff && this.inRemoval(to)) text = text.slice(0, -1); // its pair is withheld
    return { text, from };
  }

  /** A withheld range that ended inside a surrogate pair withholds the pair's second half too. */
  private skipLowSurrogate(at: number, upTo: number): number {
    if (at >= upTo) return at;
    const code = this.buffer.charCodeAt(at - this.released);
    return code >= 0xdc00 && code <= 0xdfff ? at + 1 : at;
  }

  private inRemoval(at: number): boolean {
    return this.removals.some(([s, e]) => s <= at && at < e);
  }
}
