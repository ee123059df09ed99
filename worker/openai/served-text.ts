/** The served text of an answer, token by token, and the tokens it holds. Pure. */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { SpanWatch } from "../guard/contract.js";
import { TokenAligner, type PlacedToken } from "./align.js";
import { TokenTextDecoder } from "./decode.js";
import { SpanGate, type Segment } from "./span-gate.js";
import { StopMatcher } from "./stop.js";

/** Text to send, and the tokens whose text it completes (with their offsets in the served text). */
export interface ServedPiece<T> {
  text: string;
  tokens: PlacedToken<T>[];
}

/** What the guard withholds from an answer. */
export interface Withheld {
  /** Ranges [start, end) of the model's text to remove (a redacted window or span). */
  removals?: readonly (readonly [number, number])[];
  /** The guard's watch for known-bad spans anywhere in the text. */
  spans?: SpanWatch;
}

/** A released segment, placed in the text that passed the gate (before stop strings). */
interface Placed {
  post: number;
  from: number;
  length: number;
}

/**
 * Token → served text: UTF-8 decoding, what the guard withholds ({@link SpanGate}: removed
 * ranges, text that may become a known-bad span, a cut before one), stop strings, and which
 * tokens the served text holds ({@link TokenAligner}): a token is listed only when all of
 * its text was served.
 */
export class ServedText<T extends { token: number }> {
  private readonly decoder: TokenTextDecoder;
  private readonly gate: SpanGate;
  private readonly stop: StopMatcher;
  private readonly aligner = new TokenAligner<T>();
  /** Released segments not yet wholly served. */
  private placed: Placed[] = [];
  /** Characters past the gate, and of those, served (sent past the stop strings). */
  private passed = 0;
  private served = 0;

  /** `withheld`: what the guard withholds, or a number of characters to strip from the start. */
  constructor(tokenizer: Tokenizer, withheld: Withheld | number, stops: readonly string[]) {
    this.decoder = new TokenTextDecoder(tokenizer);
    const w: Withheld = typeof withheld === "number" ? { removals: [[0, withheld]] } : withheld;
    this.gate = new SpanGate(w.removals ?? [], w.spans);
    this.stop = new StopMatcher(stops);
  }

  /** True once a stop string was seen. */
  get stopped(): boolean {
    return this.stop.stopped;
  }

  /** True once the guard cut the answer before a known-bad span. */
  get cut(): boolean {
    return this.gate.cut;
  }

  /** The piece released by one more token, or null when nothing can be sent yet. */
  push(token: T): ServedPiece<T> | null {
    const text = this.decoder.push(token.token);
    this.aligner.push(token, text);
    return this.add(this.gate.push(text), false);
  }

  /**
   * At the end of generation: pending bytes and held-back text, then `stopToken` (the token
   * that ended the answer: it adds no text, so it sits at the end), or null when there is none.
   */
  end(stopToken?: T): ServedPiece<T> | null {
    const text = this.decoder.flush();
    this.aligner.push(undefined, text);
    const segments = this.gate.push(text);
    const piece = this.add([...segments, ...this.gate.end()], true);
    if (stopToken === undefined || this.stop.stopped || this.gate.cut) return piece;
    const last = { item: stopToken, offset: this.served };
    return piece ? { text: piece.text, tokens: [...piece.tokens, last] } : { text: "", tokens: [last] };
  }

  private add(segments: Segment[], last: boolean): ServedPiece<T> | null {
    let text = "";
    for (const s of segments) {
      this.place(s);
      text += s.text;
    }
    let sent = this.stop.push(text);
    if (last || this.gate.cut) sent += this.stop.flush();
    const tokens = this.take(sent.length);
    return sent || tokens.length ? { text: sent, tokens } : null;
  }

  private place(s: Segment): void {
    const prev = this.placed[this.placed.length - 1];
    if (prev && prev.from + prev.length === s.from && prev.post + prev.length === this.passed)
      prev.length += s.text.length;
    else this.placed.push({ post: this.passed, from: s.from, length: s.text.length });
    this.passed += s.text.length;
  }

  /** Serves `count` more characters: the tokens now wholly served, segment by segment. */
  private take(count: number): PlacedToken<T>[] {
    this.served += count;
    const out: PlacedToken<T>[] = [];
    while (this.placed.length > 0) {
      const seg = this.placed[0];
      const inSeg = Math.min(seg.length, this.served - seg.post);
      if (inSeg <= 0) break;
      for (const t of this.aligner.take(seg.from, seg.from + inSeg))
        out.push({ item: t.item, offset: t.offset + seg.post });
      if (inSeg < seg.length) break;
      this.placed.shift();
    }
    return out;
  }
}
