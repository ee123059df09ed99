/** The regenerate mask (shared/guard/span-ban.ts): a span's tokens banned at any position. */
import { describe, expect, it } from "vitest";
import { banDepth, bannedSequences, spanBanMask, spanVariants, wordTokens } from "../../shared/guard/span-ban.js";
import { generateText } from "../../shared/inference/index.js";
import { ByteTokenizer, chatStopTokens, encodeChatPrompt } from "../../shared/tokenizer/index.js";
import { payloadModel } from "../support/payload-model.js";

const tokenizer = new ByteTokenizer();
const bytes = (s: string) => tokenizer.encode(s);

/** Which tokens the mask bans after `generated`. */
function bannedAfter(text: string, generated: string): number[] {
  const mask = spanBanMask(bannedSequences(text, tokenizer), tokenizer)!;
  const logits = new Float32Array(261);
  const ids = bytes(generated);
  mask(logits, ids.length, ids);
  return [...logits.keys()].filter((i) => logits[i] === -Infinity);
}

describe("span ban mask", () => {
  it("bans a span as its case forms, with its first word partly or wholly dropped", () => {
    const lower = ["you are stupid", "ou are stupid", "u are stupid", "are stupid"];
    const upper = lower.map((v) => v.toUpperCase());
    expect(new Set(spanVariants("you are stupid"))).toEqual(new Set([...lower, "You are stupid", ...upper]));
    expect(spanVariants("stupid")).toEqual(["stupid", "Stupid", "STUPID"]); // one word: no shifted forms
  });

  it("bans the next token once an answer follows a sequence past half of it, at a separator where there is one", () => {
    const isWord = wordTokens(tokenizer);
    expect(banDepth(bytes("you are stupid"), isWord)).toBe(7); // "you are" → the space is banned
    expect(banDepth(bytes("stupid"), isWord)).toBe(3); // "stu" → "p" is banned
    expect(banDepth(bytes("x"), isWord)).toBe(0); // one token: banned at every word start
    expect(bannedAfter("you are stupid", "Well, You are")).toEqual([32]);
    expect(bannedAfter("you are stupid", "u are ")).toEqual([115]); // the shifted form, too ("s")
    expect(bannedAfter("you are stupid", "Well, you ar")).toEqual([]); // not far enough
    expect(bannedAfter("you are stupid", "Thankyou are")).toEqual([]); // not at a word boundary
    expect(bannedAfter("x", "a ")).toEqual([88, 120]); // "X" and "x"
    expect(bannedAfter("x", "a")).toEqual([]);
  });

  it("a model that says the span, at the start or later, cannot complete it under the mask", () => {
    const prompt = encodeChatPrompt(tokenizer, [{ role: "user", content: "hi" }]);
    const mask = spanBanMask(bannedSequences("you are stupid", tokenizer), tokenizer);
    for (const script of ["You are stupid stupid", "Well, [12] you are stupid.", "OK. YOU ARE STUPID"]) {
      const run = (logitMask?: typeof mask) =>
        generateText(payloadModel(script), tokenizer, prompt, {
          maxTokens: 40,
          temperature: 0,
          stopTokens: chatStopTokens(tokenizer),
          logitMask,
        }).text;
      expect(run()).toBe(script);
      const masked = run(mask);
      expect(masked).not.toMatch(/(you|ou|u) are stupid/i);
    }
  });
});
