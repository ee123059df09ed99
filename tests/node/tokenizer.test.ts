import { describe, expect, it } from "vitest";
import {
  ByteTokenizer,
  chatStopTokens,
  encodeChatPrompt,
  encodeChatResponse,
  tokenizerByName,
} from "../../shared/tokenizer/index.js";

const tok = new ByteTokenizer();

describe("byte tokenizer", () => {
  it("round-trips ASCII, multi-byte UTF-8 and emoji", () => {
    for (const text of ["", "hello world", "Größe ñ 東京", "🙂 <|user|> is plain text here", "tabs\tand\nnewlines"]) {
      const ids = tok.encode(text);
      expect(ids.every((id) => id >= 0 && id < 256)).toBe(true);
      expect(tok.decode(ids)).toBe(text);
    }
  });

  it("encodes one id per UTF-8 byte", () => {
    expect(tok.encode("é")).toEqual([0xc3, 0xa9]);
  });

  it("spells special tokens and keeps them out of bytes()", () => {
    const ids = [tok.special.user, ...tok.encode("hi"), tok.special.endOfTurn];
    expect(tok.decode(ids)).toBe("<|user|>hi<|end|>");
    expect(Array.from(tok.bytes(ids))).toEqual([104, 105]);
    expect(tok.tokenText(tok.special.endOfText)).toBe("<|endoftext|>");
  });

  it("decodes a cut multi-byte sequence to U+FFFD instead of throwing", () => {
    expect(tok.decode([0xc3])).toBe("\ufffd");
  });

  it("rejects ids outside the vocabulary", () => {
    expect(() => tok.decode([261])).toThrow(/outside the byte tokenizer's vocabulary/);
    expect(() => tok.decode([-1])).toThrow(/outside/);
    expect(() => tok.decode([1.5])).toThrow(/outside/);
  });

  it("is found by name and refuses unknown names", () => {
    expect(tokenizerByName("byte").vocabSize).toBe(261);
    expect(() => tokenizerByName("bpe-50k")).toThrow(/unknown tokenizer "bpe-50k"/);
  });
});

describe("chat template", () => {
  it("lays out turns with role markers and ends with the assistant marker", () => {
    const ids = encodeChatPrompt(tok, [
      { role: "system", content: "be nice" },
      { role: "user", content: "hi" },
    ]);
    expect(tok.decode(ids)).toBe("<|system|>be nice<|end|><|user|>hi<|end|><|assistant|>");
  });

  it("ends a response with end-of-turn then end-of-text, both stop tokens", () => {
    const ids = encodeChatResponse(tok, "ok");
    expect(tok.decode(ids)).toBe("ok<|end|><|endoftext|>");
    expect(chatStopTokens(tok)).toEqual([tok.special.endOfTurn, tok.special.endOfText]);
  });

  it("refuses an empty conversation and unknown roles", () => {
    expect(() => encodeChatPrompt(tok, [])).toThrow(/at least one message/);
    expect(() => encodeChatPrompt(tok, [{ role: "tool" as "user", content: "x" }])).toThrow(/unknown chat role "tool"/);
  });
});
