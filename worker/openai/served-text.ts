/** The served text of an answer, token by token, and the tokens it holds. Pure. */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { TokenAligner, type PlacedToken } from "./align.js";
import { TextSkipper, TokenTextDecoder } from "./decode.js";
import { StopMatcher } from "./stop.js";

/** Text to send, and the tokens whose text it completes (with their offsets in the served text). */
export interface ServedPiece<T> {
  text: string;
  tokens: PlacedToken<T>[];
}

/**
 * Token → served text: UTF-8 decoding, redaction (the guard strips the first characters),
 * stop strings, and which tokens the served text holds ({@link TokenAligner}).
 */
export class ServedText<T extends { token: number }> {
  private readonly decoder: TokenTextDecoder;
  private readonly skipper: TextSkipper;
  private readonly stop: StopMatcher;
  private readonly aligner = new TokenAligner<T>();
  private skipped = 0;
  private served = 0;

  constructor(tokenizer: Tokenizer, skipChars: number, stops: readonly string[]) {
    this.decoder = new TokenTextDecoder(tokenizer);
    this.skipper = new TextSkipper(skipChars);
    this.stop = new StopMatcher(stops);
  }

  /** True once a stop string was seen. */
  get stopped(): boolean {
    return this.stop.stopped;
  }

  /** The piece released by one more token, or null when nothing can be sent yet. */
  push(token: T): ServedPiece<T> | null {
    return this.add(token, this.decoder.push(token.token), false);
  }

  /**
   * At the end of generation: pending bytes and held-back text, then `stopToken` (the token
   * that ended the answer: it adds no text, so it sits at the end), or null when there is none.
   */
  end(stopToken?: T): ServedPiece<T> | null {
    const piece = this.add(undefined, this.decoder.flush(), true);
    if (stopToken === undefined || this.stop.stopped) return piece;
    const last = { item: stopToken, offset: this.served };
    return piece ? { text: piece.text, tokens: [...piece.tokens, last] } : { text: "", tokens: [last] };
  }

  private add(token: T | undefined, text: string, last: boolean): ServedPiece<T> | null {
    this.aligner.push(token, text);
    const kept = this.skipper.push(text);
    this.skipped += text.length - kept.length;
    let sent = this.stop.push(kept);
    if (last) sent += this.stop.flush();
    this.served += sent.length;
    const tokens = this.aligner.take(this.skipped, this.skipped + this.served);
    return sent || tokens.length ? { text: sent, tokens } : null;
  }
}
