/**
 * How a token is written in logprobs. Our byte tokenizer's tokens are bytes, and most
 * bytes are not text on their own (the parts of a multi-byte UTF-8 character), so:
 *  - `token`: the token's text when its bytes are valid UTF-8 on their own (ASCII bytes);
 *    otherwise OpenAI's convention for partial characters, "bytes:" then each byte as
 *    `\xNN` (e.g. "bytes:\xc3"); a special token by its spelling ("<|user|>"). Every
 *    token has its own string, so legacy `top_logprobs` (keyed by token) never merges two.
 *  - `bytes`: the UTF-8 bytes the token adds to the served text: its byte for a byte
 *    token, its spelling's UTF-8 for a special token (served text spells it out). The
 *    `bytes` of a choice's entries, concatenated, are the served text's UTF-8.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";

/** A token's logprobs spelling and bytes. */
export interface TokenText {
  token: string;
  bytes: number[];
}

const tables = new WeakMap<Tokenizer, TokenText[]>();

/** The spelling and bytes of token `id` (see the module comment); tables are built once per tokenizer. */
export function tokenText(tokenizer: Tokenizer, id: number): TokenText {
  let table = tables.get(tokenizer);
  if (!table) tables.set(tokenizer, (table = buildTable(tokenizer)));
  const entry = table[id];
  if (!entry) throw new Error(`token id ${id} is outside the vocabulary [0, ${tokenizer.vocabSize})`);
  return entry;
}

function buildTable(tokenizer: Tokenizer): TokenText[] {
  const strict = new TextDecoder("utf-8", { fatal: true });
  const encoder = new TextEncoder();
  const table: TokenText[] = [];
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const raw = tokenizer.bytes([id]);
    if (raw.length === 0) {
      const spelling = tokenizer.tokenText(id); // a special token
      table.push({ token: spelling, bytes: Array.from(encoder.encode(spelling)) });
      continue;
    }
    let token: string;
    try {
      token = strict.decode(raw);
    } catch {
      token = "bytes:" + Array.from(raw, (b) => `\\x${b.toString(16).padStart(2, "0")}`).join("");
    }
    table.push({ token, bytes: Array.from(raw) });
  }
  return table;
}
