import type { Tokenizer } from "../../shared/tokenizer/index.js";

/**
 * Decodes generated tokens one at a time into the same text `tokenizer.decode`
 * gives for the whole sequence: UTF-8 bytes split across tokens are held until
 * the character is complete; special tokens decode to their spelling.
 */
export class TokenTextDecoder {
  private readonly utf8 = new TextDecoder("utf-8", { fatal: false });

  constructor(private readonly tokenizer: Tokenizer) {}

  /** The text completed by `token` (may be "" while a character is incomplete). */
  push(token: number): string {
    const bytes = this.tokenizer.bytes([token]);
    if (bytes.length > 0) return this.utf8.decode(bytes, { stream: true });
    // A special token: finish any pending bytes (as U+FFFD, like decode()), then its spelling.
    return this.utf8.decode() + this.tokenizer.tokenText(token);
  }

  /** At the end: pending bytes of an incomplete character, as U+FFFD. */
  flush(): string {
    return this.utf8.decode();
  }
}

/**
 * Drops the first `chars` UTF-16 code units of a text stream (the guard's
 * "redact" decision), never leaving half of a surrogate pair behind.
 */
export class TextSkipper {
  constructor(private remaining: number) {}

  /** The part of `text` that survives. */
  push(text: string): string {
    if (this.remaining <= 0) return text;
    if (text.length <= this.remaining) {
      this.remaining -= text.length;
      return "";
    }
    let at = this.remaining;
    this.remaining = 0;
    const code = text.charCodeAt(at);
    if (code >= 0xdc00 && code <= 0xdfff) at++; // the cut fell inside a surrogate pair: drop its second half too
    return text.slice(at);
  }
}
