/**
 * shared/inference's parts behind OpenAI's logprobs, top_logprobs, logit_bias and
 * penalties, each against an independent computation (float64 log-softmax of the
 * uncached pass, a naive decoding loop with OpenAI's penalty formula).
 */
import { describe, expect, it } from "vitest";
import {
  argmax,
  chainMasks,
  generate,
  GPTInference,
  logitBias,
  logSumExp,
  penalties,
  scoreTokens,
  topLogprobs,
  type GenerateOptions,
  type GeneratedToken,
} from "../../shared/inference/index.js";
import { preset } from "../../shared/model/config.js";
import { randomWeights } from "../support/random-weights.js";

const tiny = preset("tiny");
const model = new GPTInference(tiny, randomWeights(tiny, 1));
const prompt = [257, 72, 101, 108, 108, 111, 260, 258, 87, 104, 111, 63, 260, 259];

function tokensOf(options: GenerateOptions, ids: readonly number[] = prompt): GeneratedToken[] {
  return [...generate(model, ids, options)];
}

/** log-softmax in float64, written out. */
function logSoftmax64(row: Float32Array): number[] {
  const xs = Array.from(row);
  const max = Math.max(...xs);
  const lse = max + Math.log(xs.reduce((a, v) => a + Math.exp(v - max), 0));
  return xs.map((v) => v - lse);
}

/** The k best (id, logprob) by sorting everything: descending logprob, then ascending id. */
function naiveTop(row: Float32Array, k: number): { token: number; logprob: number }[] {
  const lp = logSoftmax64(row);
  return lp
    .map((logprob, token) => ({ token, logprob }))
    .sort((a, b) => b.logprob - a.logprob || a.token - b.token)
    .slice(0, k);
}

describe("topLogprobs", () => {
  it("lists the k most likely tokens in order, lower ids first on ties, and skips non-finite logits", () => {
    const logits = new Float32Array([1, 3, 3, -Infinity, 2, Number.NaN, 3]);
    const lse = logSumExp(new Float32Array([1, 3, 3, 2, 3]));
    expect(topLogprobs(logits, lse, 4).map((t) => t.token)).toEqual([1, 2, 6, 4]);
    expect(topLogprobs(logits, lse, 4)[0].logprob).toBeCloseTo(3 - lse, 6);
    expect(topLogprobs(logits, lse, 20).map((t) => t.token)).toEqual([1, 2, 6, 4, 0]);
    expect(topLogprobs(logits, lse, 0)).toEqual([]);
    expect(() => topLogprobs(logits, lse, -1)).toThrow(/k must be an integer >= 0/);
  });

  it("agrees with sorting the whole distribution", () => {
    const row = model.forwardAll(prompt)[prompt.length - 1];
    const got = topLogprobs(row, logSumExp(row), 20);
    const want = naiveTop(row, 20);
    expect(got.map((t) => t.token)).toEqual(want.map((t) => t.token));
    got.forEach((t, i) => expect(t.logprob).toBeCloseTo(want[i].logprob, 5));
  });
});

describe("generate with topLogprobs", () => {
  it("each token carries the k best of the model's own distribution, whatever the sampling settings and hooks", () => {
    const hook = (logits: Float32Array) => {
      logits[101] = -Infinity;
      logits[7] += 5;
    };
    const steps = tokensOf({ maxTokens: 12, temperature: 1.4, topP: 0.9, seed: 3, topLogprobs: 5, logitMask: hook });
    const rows = model.forwardAll([...prompt, ...steps.slice(0, -1).map((s) => s.token)]);
    steps.forEach((s, i) => {
      const want = naiveTop(rows[prompt.length - 1 + i], 5);
      expect(s.top!.map((t) => t.token)).toEqual(want.map((t) => t.token));
      s.top!.forEach((t, j) => expect(Math.abs(t.logprob - want[j].logprob)).toBeLessThanOrEqual(1e-5));
      const inTop = s.top!.find((t) => t.token === s.token);
      if (inTop) expect(inTop.logprob).toBe(s.logprob); // the same numbers, not recomputed differently
    });
    expect(tokensOf({ maxTokens: 3, temperature: 0 })[0].top).toBeUndefined(); // off by default
  });

  it("returns the stop token that ended generation as it was picked, with its logprob and alternatives", () => {
    const greedy = tokensOf({ maxTokens: 6, temperature: 0, topLogprobs: 2 });
    const stopAt = greedy.findIndex((s) => s.token === greedy[2].token); // its first occurrence
    const it = generate(model, prompt, { maxTokens: 6, temperature: 0, topLogprobs: 2, stopTokens: [greedy[2].token] });
    let r = it.next();
    while (!r.done) r = it.next();
    expect(r.value).toMatchObject({ finishReason: "stop", tokens: greedy.slice(0, stopAt).map((s) => s.token) });
    expect(r.value.stopStep).toEqual(greedy[stopAt]);
  });

  it("refuses a topLogprobs that is not an integer in [0, V]", () => {
    expect(() => generate(model, prompt, { maxTokens: 2, topLogprobs: -1 })).toThrow(/topLogprobs must be an integer/);
    expect(() => generate(model, prompt, { maxTokens: 2, topLogprobs: tiny.vocab_size + 1 })).toThrow(/topLogprobs/);
  });
});

describe("logit hooks", () => {
  it("logitBias adds to the logits: +100 forces a token, −100 bans it, others are untouched", () => {
    const logits = new Float32Array([0.5, 1, 2]);
    logitBias(
      new Map([
        [0, 100],
        [2, -1.5],
        [9, 3], // outside these logits: ignored
      ]),
    )(logits, 0, []);
    expect(Array.from(logits)).toEqual([100.5, 1, 0.5]);

    const forced = tokensOf({ maxTokens: 6, temperature: 1, seed: 2, logitMask: logitBias(new Map([[65, 100]])) });
    expect(forced.map((s) => s.token)).toEqual(Array(6).fill(65));
    const greedy = tokensOf({ maxTokens: 6, temperature: 0 }).map((s) => s.token);
    const banned = tokensOf({ maxTokens: 6, temperature: 0, logitMask: logitBias(new Map([[greedy[0], -100]])) });
    expect(banned[0].token).not.toBe(greedy[0]);
    // The reported logprob stays the model's: the forced token's is its own (low) probability, not ~0.
    const row = model.forwardAll(prompt)[prompt.length - 1];
    expect(forced[0].logprob).toBeCloseTo(logSoftmax64(row)[65], 5);
  });

  it("penalties follow OpenAI's formula over the generated tokens (not the prompt)", () => {
    const presence = 0.7;
    const frequency = 1.3;
    const hook = penalties({ presence, frequency });
    expect(penalties({ presence: 0, frequency: 0 })).toBeUndefined();
    const logits = new Float32Array([0, 0, 0, 0]);
    hook!(logits, 3, [1, 3, 1]);
    expect(Array.from(logits)).toEqual([0, -(2 * frequency + presence), 0, -(frequency + presence)].map(Math.fround));

    // Greedy decoding with the hook equals a naive loop: μ[j] − c[j]·α_frequency − [c[j] > 0]·α_presence.
    const got = tokensOf({ maxTokens: 24, temperature: 0, logitMask: hook }).map((s) => s.token);
    const want: number[] = [];
    for (let i = 0; i < 24; i++) {
      const row = Array.from(model.forwardAll([...prompt, ...want])[prompt.length + want.length - 1]);
      const counts = new Map<number, number>();
      for (const t of want) counts.set(t, (counts.get(t) ?? 0) + 1);
      for (const [t, c] of counts) row[t] -= c * frequency + presence;
      want.push(argmax(new Float32Array(row)));
    }
    expect(got).toEqual(want);
    const plain = tokensOf({ maxTokens: 24, temperature: 0 }).map((s) => s.token);
    expect(new Set(got).size).toBeGreaterThan(new Set(plain).size); // penalties spread the answer out
  });

  it("chainMasks runs hooks in order and skips undefined ones", () => {
    const order: string[] = [];
    const a = () => void order.push("a");
    const b = () => void order.push("b");
    expect(chainMasks(undefined, undefined)).toBeUndefined();
    expect(chainMasks(undefined, a)).toBe(a);
    chainMasks(a, undefined, b)!(new Float32Array(1), 0, []);
    expect(order).toEqual(["a", "b"]);
  });
});

describe("scoreTokens", () => {
  it("scores each token after the ones before it, as generate reports the tokens it picks", () => {
    const steps = tokensOf({ maxTokens: 10, temperature: 0.9, seed: 8, topLogprobs: 3 });
    const ids = [...prompt, ...steps.map((s) => s.token)];
    const scored = scoreTokens(model, ids, 3);
    expect(scored[0]).toEqual({ token: ids[0], logprob: null, top: null });
    steps.forEach((s, i) => {
      const at = scored[prompt.length + i];
      expect(at.token).toBe(s.token);
      expect(Math.abs(at.logprob! - s.logprob)).toBeLessThanOrEqual(1e-5); // uncached pass vs KV cache
      expect(at.top!.map((t) => t.token)).toEqual(s.top!.map((t) => t.token));
    });
    // And against the cached forward pass token by token, in float64.
    const cache = model.createCache();
    ids.slice(0, -1).forEach((tok, i) => {
      const lp = logSoftmax64(model.forward([tok], cache));
      expect(Math.abs(scored[i + 1].logprob! - lp[ids[i + 1]])).toBeLessThanOrEqual(1e-5);
    });
    expect(() => scoreTokens(model, [], 0)).toThrow(/at least one token/);
    expect(() => scoreTokens(model, prompt, -2)).toThrow(/topK must be an integer >= 0/);
  });
});
