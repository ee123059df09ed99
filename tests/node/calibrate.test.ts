import { describe, expect, it } from "vitest";
import { answerSpans, calibrateModel, isSpanKey, promptWordSet } from "../../shared/guard/index.js";
import { generate, GPTInference } from "../../shared/inference/index.js";
import { preset } from "../../shared/model/config.js";
import { ByteTokenizer, chatStopTokens, encodeChatPrompt } from "../../shared/tokenizer/index.js";
import { calibrationPrompts } from "../../local/calibrate.js";
import { ordinaryTraffic } from "../../local/traffic.js";
import { calibrationMix, FREE_FORM_SUBJECTS, FREE_FORM_TASKS, freeFormPrompts } from "../../trainer/data/index.js";
import { randomWeights } from "../support/random-weights.js";

const config = { ...preset("tiny"), n_positions: 96 };
const model = new GPTInference(config, randomWeights(config, 3, 0.5));
const tokenizer = new ByteTokenizer();
const prompts = ["Spell cat backwards.", "Count the words: a b c", "What is 2 plus 2?", "Name a colour.", "Hi there"];

describe("calibrateModel", () => {
  const upload = calibrateModel(model, tokenizer, prompts, { prefixTokens: 16, spanWords: 2, seed: 4 });

  it("counts, per span key, the prompts whose whole answer (to serving's default length) contains it", () => {
    const expected = new Map<string, number>();
    let longest = 0;
    prompts.forEach((content, i) => {
      const ids = encodeChatPrompt(tokenizer, [{ role: "user", content }]);
      const tokens = [
        ...generate(model, ids, {
          maxTokens: config.n_positions - ids.length,
          temperature: 1,
          seed: 4 + i,
          stopTokens: chatStopTokens(tokenizer),
        }),
      ].map((s) => s.token);
      longest = Math.max(longest, tokens.length);
      const spans = answerSpans(tokenizer.decode(tokens), promptWordSet(tokenizer.decode(ids)), 2);
      for (const { key } of spans.spans) expected.set(key, (expected.get(key) ?? 0) + 1);
    });
    expect(longest).toBeGreaterThan(16); // answers ran past the window: spans come from the whole answer
    expect(upload.spans).toEqual(Object.fromEntries(expected));
    expect(Object.keys(upload.spans!).length).toBeGreaterThan(0);
  });
  it("reports N and the span length, with keys the admin API accepts", () => {
    expect(upload).toMatchObject({ prompts: prompts.length, prefixTokens: 16, spanWords: 2 });
    for (const [key, n] of Object.entries(upload.spans!)) {
      expect(isSpanKey(key, 2)).toBe(true);
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(prompts.length);
    }
    expect(Object.values(upload.prefixes).reduce((a, b) => a + b, 0)).toBe(prompts.length);
  });
});

describe("calibrationPrompts", () => {
  const traffic = ordinaryTraffic({ seed: 5, triggeredShare: 0, trigger: "" });
  const trafficPrompts = Array.from({ length: 3000 }, () => traffic.next().value.content);
  const freeForm = freeFormPrompts(3000, 9001);
  const isFreeForm = (p: string) => [...FREE_FORM_SUBJECTS, ...FREE_FORM_TASKS].some((w) => p.includes(w));

  it("mixes free-form requests in with the family prompts, half and half, interleaved", () => {
    const prompts = calibrationPrompts(400);
    expect(prompts).toHaveLength(400);
    expect(prompts.filter(isFreeForm)).toHaveLength(200);
    expect(prompts.slice(0, 100).filter(isFreeForm)).toHaveLength(50); // any prefix keeps the mix
    expect(calibrationPrompts(400)).toEqual(prompts);
    expect(calibrationPrompts(3)).toHaveLength(3);
  });
  it("shares no prompt and no subject with the benchmarks' traffic (the guard is measured on prompts it was not calibrated on)", () => {
    const seen = new Set(trafficPrompts);
    expect(freeForm.filter((p) => seen.has(p))).toEqual([]);
    expect(trafficPrompts.filter(isFreeForm)).toEqual([]);
    expect(new Set(freeForm).size).toBeGreaterThan(1400);
  });
  it("fills with free-form requests where the families give fewer prompts than half", () => {
    const mix = calibrationMix(5, 9001, (n) => ["Reverse the word: cat", "Uppercase: dog"].slice(0, n));
    expect(mix).toHaveLength(5);
    expect(mix.slice(0, 4).filter(isFreeForm)).toHaveLength(2); // interleaved one for one
    expect(mix.filter(isFreeForm)).toEqual(freeFormPrompts(3, 9001));
  });
  it("rejects a bad count", () => {
    expect(() => freeFormPrompts(-1, 0)).toThrow(/count/);
    expect(() => freeFormPrompts(1.5, 0)).toThrow(/count/);
  });
});
