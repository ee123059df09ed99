/** How tokens are spelled in logprobs, and which tokens a served text holds (pure parts of worker/openai). */
import { describe, expect, it } from "vitest";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { TokenAligner } from "../../worker/openai/align.js";
import { appendLegacy, chatLogprob, emptyLegacyLogprobs } from "../../worker/openai/logprobs.js";
import { ServedText, type ServedPiece } from "../../worker/openai/served-text.js";
import { tokenText } from "../../worker/openai/token-text.js";

const tokenizer = new ByteTokenizer();

describe("token spelling", () => {
  it("spells ASCII bytes as themselves, other bytes as bytes:\\xNN, special tokens by name", () => {
    expect(tokenText(tokenizer, 0x41)).toEqual({ token: "A", bytes: [0x41] });
    expect(tokenText(tokenizer, 0x0a)).toEqual({ token: "\n", bytes: [0x0a] });
    expect(tokenText(tokenizer, 0xc3)).toEqual({ token: "bytes:\\xc3", bytes: [0xc3] });
    expect(tokenText(tokenizer, 0x80)).toEqual({ token: "bytes:\\x80", bytes: [0x80] });
    expect(tokenText(tokenizer, tokenizer.special.user)).toEqual({
      token: "<|user|>",
      bytes: Array.from(new TextEncoder().encode("<|user|>")),
    });
    expect(() => tokenText(tokenizer, tokenizer.vocabSize)).toThrow(/outside the vocabulary/);
  });

  it("gives every token of the vocabulary its own spelling (legacy top_logprobs are keyed by it)", () => {
    const spellings = new Set(Array.from({ length: tokenizer.vocabSize }, (_, id) => tokenText(tokenizer, id).token));
    expect(spellings.size).toBe(tokenizer.vocabSize);
  });

  it("builds chat entries and legacy arrays; the legacy dict always holds the chosen token", () => {
    const t = { token: 0x68, logprob: -3, top: [{ token: 0x41, logprob: -0.5 }] };
    expect(chatLogprob(tokenizer, t)).toEqual({
      token: "h",
      logprob: -3,
      bytes: [0x68],
      top_logprobs: [{ token: "A", logprob: -0.5, bytes: [0x41] }],
    });
    const legacy = emptyLegacyLogprobs();
    appendLegacy(legacy, tokenizer, { token: 0x48, logprob: null, top: null }, 0);
    appendLegacy(legacy, tokenizer, t, 1);
    appendLegacy(legacy, tokenizer, { token: 0x41, logprob: -0.5, top: [{ token: 0x41, logprob: -0.5 }] }, 2);
    expect(legacy).toEqual({
      tokens: ["H", "h", "A"],
      token_logprobs: [null, -3, -0.5],
      top_logprobs: [null, { A: -0.5, h: -3 }, { A: -0.5 }],
      text_offset: [0, 1, 2],
    });
  });
});

/** Serves byte tokens as respond.ts does; returns the text and the tokens released with it. */
function serve(ids: number[], skip: number, stops: string[]) {
  const out = new ServedText<{ token: number }>(tokenizer, skip, stops);
  let text = "";
  const released: { item: number; offset: number }[] = [];
  const take = (piece: ServedPiece<{ token: number }> | null) => {
    text += piece?.text ?? "";
    released.push(...(piece?.tokens ?? []).map((t) => ({ item: t.item.token, offset: t.offset })));
  };
  for (const token of ids) {
    take(out.push({ token }));
    if (out.stopped) return { text, released };
  }
  take(out.end());
  return { text, released };
}

describe("token alignment", () => {
  const ids = tokenizer.encode("héllo wörld"); // é and ö are two bytes each

  it("releases every token once, a multi-byte character's bytes at the offset of that character", () => {
    const { text, released } = serve(ids, 0, []);
    expect(text).toBe("héllo wörld");
    expect(released.map((r) => r.item)).toEqual(ids);
    expect(released.map((r) => r.offset)).toEqual([0, 1, 1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10]);
  });

  it("never reports a token whose text was redacted, even in part", () => {
    for (const skip of [1, 2, 3, 7]) {
      const { text, released } = serve(ids, skip, []);
      expect(text).toBe("héllo wörld".slice(skip));
      expect(released.map((r) => r.item)).toEqual(Array.from(new TextEncoder().encode(text))); // exactly the served bytes
    }
    expect(serve(ids, 2, []).released.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 5, 6, 7, 8]);
    // A cut inside a surrogate pair drops the whole character, and so all four of its bytes.
    expect(serve(tokenizer.encode("😀ab"), 1, [])).toEqual({
      text: "ab",
      released: [
        { item: 0x61, offset: 0 },
        { item: 0x62, offset: 1 },
      ],
    });
  });

  it("never reports the tokens of a stop string or what came after it", () => {
    const { text, released } = serve(ids, 0, ["ö"]);
    expect(text).toBe("héllo w");
    expect(released.map((r) => r.item)).toEqual(Array.from(new TextEncoder().encode("héllo w")));
    const cutInsideToken = serve(tokenizer.encode("abc"), 0, ["bc"]);
    expect(cutInsideToken).toEqual({ text: "a", released: [{ item: 0x61, offset: 0 }] });
  });

  it("holds back a token until the text it completes is served (stop-string look-ahead)", () => {
    const aligner = new TokenAligner<string>();
    aligner.push("a", "a");
    expect(aligner.take(0, 0)).toEqual([]);
    aligner.push("b", "b");
    expect(aligner.take(0, 1)).toEqual([{ item: "a", offset: 0 }]);
    expect(aligner.take(0, 2)).toEqual([{ item: "b", offset: 1 }]);
    expect(aligner.take(0, 2)).toEqual([]);
  });
});
