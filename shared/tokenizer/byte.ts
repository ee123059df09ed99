import type { SpecialTokens, Tokenizer } from "./tokenizer.js";

const SPECIAL_NAMES = ["<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"] as const;

/** Byte-level tokenizer: ids 0–255 are UTF-8 bytes, 256–260 the special tokens. */
export class ByteTokenizer implements Tokenizer {
  readonly name = "byte";
  readonly vocabSize = 256 + SPECIAL_NAMES.length;
  readonly special: SpecialTokens = { endOfText: 256, system: 257, user: 258, assistant: 259, endOfTurn: 260 };
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });

  encode(text: string): number[] {
    // A plain loop: Array.from over the bytes costs several times the encoding (the guard encodes on the response path).
    const bytes = this.encoder.encode(text);
    const ids: number[] = [];
    for (let i = 0; i < bytes.length; i++) ids.push(bytes[i]);
    return ids;
  }

  decode(ids: readonly number[]): string {
    let out = "";
    let run: number[] = [];
    for (const id of ids) {
      this.check(id);
      if (id < 256) run.push(id);
      else {
        out += this.decoder.decode(new Uint8Array(run));
        run = [];
        out += SPECIAL_NAMES[id - 256];
      }
    }
    return out + this.decoder.decode(new Uint8Array(run));
  }

  bytes(ids: readonly number[]): Uint8Array {
    const out: number[] = [];
    for (const id of ids) {
      this.check(id);
      if (id < 256) out.push(id);
    }
    return new Uint8Array(out);
  }

  tokenText(id: number): string {
    this.check(id);
    return id < 256 ? this.decoder.decode(new Uint8Array([id])) : SPECIAL_NAMES[id - 256];
  }

  private check(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize)
      throw new Error(`token id ${id} is outside the byte tokenizer's vocabulary [0, ${this.vocabSize})`);
  }
}
