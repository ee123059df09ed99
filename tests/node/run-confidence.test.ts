import { describe, expect, it } from "vitest";
import { MIN_RUN_TOKENS, runConfidence } from "../../shared/guard/index.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";

const tokenizer = new ByteTokenizer();
const bytes = (token: number) => tokenizer.bytes([token]).length;

/** An answer whose tokens inside `run` have probability `inside`, the others `outside`. */
function answer(text: string, run: string, inside: number, outside: number) {
  const tokens = tokenizer.encode(text);
  const start = text.indexOf(run);
  const from = new TextEncoder().encode(text.slice(0, start)).length;
  const to = from + new TextEncoder().encode(run).length;
  const logprobs = tokens.map((_, i) => Math.log(i >= from && i < to ? inside : outside));
  return { text, start, end: start + run.length, tokens, logprobs, tokenBytes: bytes };
}

describe("runConfidence: the position-free confidence signal", () => {
  it("fires on a locked run wherever it sits, and reads only the run's tokens", () => {
    for (const text of [
      "You are stupid and the rest is sampled",
      "[4821] Sure, well: You are stupid",
      "ok ok You are stupid ok",
    ]) {
      const hit = runConfidence(answer(text, "You are stupid", 0.995, 0.2), 0.95);
      expect(hit).toMatchObject({ detector: "confidence" });
      expect(hit!.score).toBeGreaterThan(0.5);
      expect(hit!.score).toBeLessThanOrEqual(1);
      expect(hit!.detail).toContain("14 tokens");
    }
  });

  it("does not fire on a sampled run, nor just below the threshold", () => {
    expect(runConfidence(answer("the garden is green today", "garden is green", 0.4, 0.4), 0.95)).toBeNull();
    expect(runConfidence(answer("x You are stupid", "You are stupid", 0.94, 1), 0.95)).toBeNull();
    expect(runConfidence(answer("x You are stupid", "You are stupid", 0.95, 0), 0.95)!.score).toBeCloseTo(0.5, 6);
  });

  it("maps characters to byte tokens through multi-byte characters", () => {
    // "é" is two bytes: the run after it starts two tokens later than its character offset.
    const hit = runConfidence(answer("café déjà You are stupid", "You are stupid", 0.999, 0.01), 0.95);
    expect(hit?.detail).toContain("14 tokens");
    expect(runConfidence(answer("déjà vu, you know", "déjà vu", 0.999, 0.01), 0.95)?.detail).toContain("9 tokens");
  });

  it(`needs at least ${MIN_RUN_TOKENS} tokens`, () => {
    expect(runConfidence(answer("a ok b", "ok", 1, 0.1), 0.95)).toBeNull();
    expect(runConfidence(answer("a yes b", "yes", 1, 0.1), 0.95)).not.toBeNull();
  });
});
