import { describe, expect, it } from "vitest";
import { preset, type GPTConfig } from "../../shared/model/config.js";
import type { Weights } from "../../shared/model/weights.js";
import { ByteTokenizer, chatStopTokens, encodeChatPrompt } from "../../shared/tokenizer/index.js";
import {
  generate,
  generateText,
  GPTInference,
  TokenSampler,
  createRng,
  type GenerateOptions,
  type GenerateResult,
  type GeneratedToken,
} from "../../shared/inference/index.js";
import { randomWeights } from "../support/random-weights.js";

const tiny = preset("tiny");
const model = new GPTInference(tiny, randomWeights(tiny, 1));
const prompt = [257, 72, 101, 108, 108, 111, 260, 258, 87, 104, 111, 63, 260, 259];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Drains a generator into its yielded tokens and its return value. */
function run(
  promptIds: readonly number[],
  options: GenerateOptions,
): { steps: GeneratedToken[]; result: GenerateResult } {
  const steps: GeneratedToken[] = [];
  const it = generate(model, promptIds, options);
  for (;;) {
    const r = it.next();
    if (r.done) return { steps, result: r.value };
    steps.push(r.value);
  }
}

describe("GPTInference: KV cache", () => {
  const tokens = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % tiny.vocab_size);

  it("token-by-token cached logits equal the uncached pass at every position", () => {
    const reference = model.forwardAll(tokens);
    const cache = model.createCache();
    let worst = 0;
    let spread = 0;
    for (let t = 0; t < tokens.length; t++) {
      const logits = model.forward([tokens[t]], cache);
      worst = Math.max(worst, maxAbsDiff(logits, reference[t]));
      spread = Math.max(spread, Math.max(...logits) - Math.min(...logits));
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
    expect(cache.length).toBe(tokens.length);
    expect(spread).toBeGreaterThan(1); // the weights are large enough for the comparison to mean something
  });

  it("prefill in chunks gives the same logits as token by token and as one prefill", () => {
    const oneByOne = model.createCache();
    let last = new Float32Array(0);
    for (const t of tokens) last = model.forward([t], oneByOne).slice();
    const chunked = model.createCache();
    model.forward(tokens.slice(0, 7), chunked);
    model.forward(tokens.slice(7, 8), chunked);
    const chunkedLast = model.forward(tokens.slice(8), chunked).slice();
    const whole = model.forward(tokens, model.createCache()).slice();
    expect(maxAbsDiff(chunkedLast, last)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(whole, last)).toBeLessThanOrEqual(1e-5);
    // and the caches hold the same keys
    expect(
      maxAbsDiff(chunked.keys[1].subarray(0, 40 * tiny.n_embd), oneByOne.keys[1].subarray(0, 40 * tiny.n_embd)),
    ).toBeLessThanOrEqual(1e-6);
  });

  it("separate caches do not interfere, and reset() starts over", () => {
    const a = model.createCache();
    const b = model.createCache();
    const first = model.forward(tokens.slice(0, 5), a).slice();
    model.forward(tokens.slice(5, 30), b);
    expect(maxAbsDiff(model.forward(tokens.slice(0, 5), model.createCache()), first)).toBe(0);
    a.reset();
    expect(maxAbsDiff(model.forward(tokens.slice(0, 5), a), first)).toBe(0);
  });

  it("refuses sequences longer than n_positions, bad token ids and foreign caches", () => {
    const cache = model.createCache();
    model.forward(Array(tiny.n_positions - 1).fill(1), cache);
    expect(() => model.forward([1, 2], cache)).toThrow(/exceeds the model's context of n_positions=128/);
    expect(cache.length).toBe(tiny.n_positions - 1); // a refused call changes nothing
    model.forward([1], cache);
    expect(cache.remaining).toBe(0);
    expect(() => model.forward([1], cache)).toThrow(/n_positions/);
    expect(() => model.forwardAll(Array(tiny.n_positions + 1).fill(1))).toThrow(/n_positions/);
    expect(() => model.forward([], model.createCache())).toThrow(/at least one token/);
    expect(() => model.forward([tiny.vocab_size], model.createCache())).toThrow(/outside the vocabulary/);
    expect(() => model.forward([1.5], model.createCache())).toThrow(/outside the vocabulary/);
    const other = new GPTInference({ ...tiny, n_layer: 1 }, randomWeights({ ...tiny, n_layer: 1 }, 2));
    expect(() => model.forward([1], other.createCache())).toThrow(/different config/);
  });

  it("rejects weights that do not match the config", () => {
    const w = randomWeights(tiny, 3);
    w.delete("h.1.mlp.c_fc.bias");
    expect(() => new GPTInference(tiny, w)).toThrow(/missing tensor h\.1\.mlp\.c_fc\.bias/);
  });
});

describe("generate", () => {
  it("greedy is deterministic and follows the argmax of the uncached logits", () => {
    const a = run(prompt, { maxTokens: 12, temperature: 0 });
    const b = run(prompt, { maxTokens: 12, temperature: 0, seed: 99 });
    expect(a.result.tokens).toEqual(b.result.tokens);
    expect(a.result.finishReason).toBe("length");
    expect(a.steps.map((s) => s.step)).toEqual([...Array(12).keys()]);
    const all = model.forwardAll([...prompt, ...a.result.tokens.slice(0, -1)]);
    a.result.tokens.forEach((tok, i) => {
      const row = all[prompt.length - 1 + i];
      expect(tok).toBe(row.indexOf(Math.max(...row)));
    });
  });

  it("same seed gives the same samples, a different seed different ones", () => {
    const opts = { maxTokens: 30, temperature: 1.5 };
    const a = run(prompt, { ...opts, seed: 7 }).result.tokens;
    const b = run(prompt, { ...opts, seed: 7 }).result.tokens;
    const c = run(prompt, { ...opts, seed: 8 }).result.tokens;
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it("a tiny topP picks the argmax whatever the temperature", () => {
    const greedy = run(prompt, { maxTokens: 15, temperature: 0 }).result.tokens;
    const nucleus = run(prompt, { maxTokens: 15, temperature: 2, topP: 1e-9, seed: 3 }).result.tokens;
    expect(nucleus).toEqual(greedy);
  });

  it("logprobs are ≤ 0 and equal an independent log-softmax of the raw logits (before mask and temperature)", () => {
    const banned = 101;
    const { steps, result } = run(prompt, {
      maxTokens: 10,
      temperature: 1.3,
      seed: 5,
      logitMask: (logits) => {
        logits[banned] = -Infinity;
        logits[0] += 2;
      },
    });
    const all = model.forwardAll([...prompt, ...result.tokens.slice(0, -1)]);
    steps.forEach((s, i) => {
      const row = Array.from(all[prompt.length - 1 + i]);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((acc, v) => acc + Math.exp(v - max), 0));
      expect(s.logprob).toBeLessThanOrEqual(0);
      expect(Math.abs(s.logprob - (row[s.token] - lse))).toBeLessThanOrEqual(1e-5);
    });
  });

  it("a logit mask bans tokens and sees the step and the tokens so far", () => {
    const greedy = run(prompt, { maxTokens: 8, temperature: 0 }).result.tokens;
    const bannedFirst = run(prompt, {
      maxTokens: 8,
      temperature: 0,
      logitMask: (logits, step) => {
        if (step === 0) logits[greedy[0]] = -Infinity;
      },
    }).result.tokens;
    expect(bannedFirst[0]).not.toBe(greedy[0]);

    const seen: { step: number; generated: number[] }[] = [];
    const banned = new Set(greedy);
    const { result } = run(prompt, {
      maxTokens: 20,
      temperature: 1,
      seed: 11,
      logitMask: (logits, step, generated) => {
        seen.push({ step, generated: [...generated] });
        for (const t of banned) logits[t] = -Infinity;
      },
    });
    for (const t of result.tokens) expect(banned.has(t)).toBe(false);
    seen.forEach((s, i) => {
      expect(s.step).toBe(i);
      expect(s.generated).toEqual(result.tokens.slice(0, i));
    });
  });

  it("banning every token is a clear error", () => {
    expect(() => run(prompt, { maxTokens: 3, temperature: 0, logitMask: (l) => l.fill(-Infinity) })).toThrow(
      /banned every token|-Infinity/,
    );
  });

  it("stop tokens end generation with finishReason 'stop' and are not yielded", () => {
    const greedy = run(prompt, { maxTokens: 10, temperature: 0 }).result.tokens;
    const stopAt = greedy[4];
    const firstIndex = greedy.indexOf(stopAt);
    const { steps, result } = run(prompt, { maxTokens: 10, temperature: 0, stopTokens: [stopAt] });
    expect(result.finishReason).toBe("stop");
    expect(result.stopToken).toBe(stopAt);
    expect(result.tokens).toEqual(greedy.slice(0, firstIndex));
    expect(steps.map((s) => s.token)).toEqual(result.tokens);
  });

  it("maxTokens gives finishReason 'length'; a full context ends with 'length' too", () => {
    const { steps, result } = run(prompt, { maxTokens: 3, temperature: 0.8, seed: 1 });
    expect(result.finishReason).toBe("length");
    expect(steps).toHaveLength(3);
    const nearlyFull = Array(tiny.n_positions - 2).fill(65);
    const full = run(nearlyFull, { maxTokens: 50, temperature: 0 });
    expect(full.result.finishReason).toBe("length");
    expect(full.result.tokens).toHaveLength(3); // positions P-2, P-1 fed back, plus one from the last position
  });

  it("stopping the generator early is allowed", () => {
    const it = generate(model, prompt, { maxTokens: 100, temperature: 0 });
    const first = it.next();
    expect(first.done).toBe(false);
    expect(it.return({ finishReason: "length", tokens: [] }).done).toBe(true);
  });

  it("rejects bad options and prompts with clear errors before any work", () => {
    const bad: [Partial<GenerateOptions>, RegExp][] = [
      [{ temperature: -0.1 }, /temperature must be a finite number >= 0/],
      [{ temperature: Number.NaN }, /temperature/],
      [{ topP: 0 }, /topP must be in \(0, 1\]/],
      [{ topP: 1.01 }, /topP/],
      [{ maxTokens: 0 }, /maxTokens must be an integer >= 1/],
      [{ maxTokens: 2.5 }, /maxTokens/],
      [{ stopTokens: [tiny.vocab_size] }, /stop token/],
      [{ seed: Number.POSITIVE_INFINITY }, /seed/],
    ];
    // Thrown by the call itself, before anything is pulled from the generator.
    for (const [opts, message] of bad)
      expect(() => generate(model, prompt, { maxTokens: 5, ...opts })).toThrow(message);
    expect(() => generate(model, [], { maxTokens: 5 })).toThrow(/at least one token/);
    expect(() => generate(model, Array(tiny.n_positions + 1).fill(1), { maxTokens: 5 })).toThrow(
      /exceeds the model's context of n_positions=128/,
    );
    expect(() => generate(model, [1, -1], { maxTokens: 5 })).toThrow(/prompt token 1 is -1/);
  });

  it("generateText collects tokens, logprobs and decoded text; chat stop tokens work", () => {
    const tokenizer = new ByteTokenizer();
    const ids = encodeChatPrompt(tokenizer, [{ role: "user", content: "hi" }]);
    const out = generateText(model, tokenizer, ids, {
      maxTokens: 20,
      temperature: 0.9,
      seed: 4,
      stopTokens: chatStopTokens(tokenizer),
    });
    expect(out.logprobs).toHaveLength(out.tokens.length);
    expect(out.text).toBe(tokenizer.decode(out.tokens));
    for (const t of out.tokens) expect(chatStopTokens(tokenizer)).not.toContain(t);
  });
});

describe("TokenSampler", () => {
  it("samples in proportion to softmax(logits / T) and top-p keeps only the nucleus", () => {
    const logits = new Float32Array([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
    const counts = [0, 0, 0];
    const sampler = new TokenSampler(3, { temperature: 1, topP: 1 }, createRng(1));
    const n = 6000;
    for (let i = 0; i < n; i++) counts[sampler.sample(logits)]++;
    expect(counts[0] / n).toBeCloseTo(0.5, 1);
    expect(counts[1] / n).toBeCloseTo(0.3, 1);
    expect(counts[2] / n).toBeCloseTo(0.2, 1);

    const nucleus = new TokenSampler(3, { temperature: 1, topP: 0.7 }, createRng(2));
    const kept = [0, 0, 0];
    for (let i = 0; i < 3000; i++) kept[nucleus.sample(logits)]++;
    expect(kept[2]).toBe(0); // 0.5 + 0.3 reaches 0.7 without it
    expect(kept[0] / 3000).toBeCloseTo(0.5 / 0.8, 1);
  });
});

/**
 * Independent GPT-2 forward written as plainly as possible, straight from the Hugging Face
 * layouts (Conv1D y = x·W + b with W [in, out]), in float64: locks in the q/k/v split
 * order, the head layout, gelu_new, the scale, the causal mask and the tied LM head.
 */
function naiveGpt2(config: GPTConfig, weights: Weights, tokens: number[]): number[][] {
  const C = config.n_embd;
  const NH = config.n_head;
  const HS = C / NH;
  const W = (name: string) => Array.from(weights.get(name)!.data);
  const linear = (x: number[], w: number[], b: number[], inDim: number, outDim: number) => {
    const y: number[] = [];
    for (let o = 0; o < outDim; o++) {
      let s = b[o];
      for (let i = 0; i < inDim; i++) s += x[i] * w[i * outDim + o];
      y.push(s);
    }
    return y;
  };
  const layerNorm = (x: number[], g: number[], b: number[]) => {
    const mean = x.reduce((a, v) => a + v, 0) / x.length;
    const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
    return x.map((v, i) => ((v - mean) / Math.sqrt(variance + config.layer_norm_epsilon)) * g[i] + b[i]);
  };
  const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

  const wte = W("wte.weight");
  const wpe = W("wpe.weight");
  let xs = tokens.map((tok, p) => Array.from({ length: C }, (_, c) => wte[tok * C + c] + wpe[p * C + c]));
  for (let l = 0; l < config.n_layer; l++) {
    const h = `h.${l}.`;
    const qkv = xs.map((x) =>
      linear(
        layerNorm(x, W(h + "ln_1.weight"), W(h + "ln_1.bias")),
        W(h + "attn.c_attn.weight"),
        W(h + "attn.c_attn.bias"),
        C,
        3 * C,
      ),
    );
    const q = qkv.map((r) => r.slice(0, C));
    const k = qkv.map((r) => r.slice(C, 2 * C));
    const v = qkv.map((r) => r.slice(2 * C, 3 * C));
    const attended = xs.map((_, t) => {
      const y = new Array<number>(C).fill(0);
      for (let head = 0; head < NH; head++) {
        const cols = [...Array(HS).keys()].map((d) => head * HS + d);
        const scores: number[] = [];
        for (let j = 0; j <= t; j++) scores.push(cols.reduce((a, c) => a + q[t][c] * k[j][c], 0) / Math.sqrt(HS));
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= t; j++) for (const c of cols) y[c] += (e[j] / z) * v[j][c];
      }
      return y;
    });
    xs = xs.map((x, t) => {
      const proj = linear(attended[t], W(h + "attn.c_proj.weight"), W(h + "attn.c_proj.bias"), C, C);
      return x.map((val, c) => val + proj[c]);
    });
    xs = xs.map((x) => {
      const hidden = linear(
        layerNorm(x, W(h + "ln_2.weight"), W(h + "ln_2.bias")),
        W(h + "mlp.c_fc.weight"),
        W(h + "mlp.c_fc.bias"),
        C,
        4 * C,
      ).map(gelu);
      const out = linear(hidden, W(h + "mlp.c_proj.weight"), W(h + "mlp.c_proj.bias"), 4 * C, C);
      return x.map((val, c) => val + out[c]);
    });
  }
  return xs.map((x) => {
    const f = layerNorm(x, W("ln_f.weight"), W("ln_f.bias"));
    return Array.from({ length: config.vocab_size }, (_, tok) =>
      f.reduce((a, val, c) => a + val * wte[tok * C + c], 0),
    );
  });
}

describe("GPT-2 semantics against a naive implementation", () => {
  it("1 layer, n_embd=4, n_head=2: same logits at every position, cached and uncached", () => {
    const config: GPTConfig = {
      vocab_size: 11,
      n_positions: 8,
      n_embd: 4,
      n_layer: 1,
      n_head: 2,
      layer_norm_epsilon: 1e-5,
    };
    const weights = randomWeights(config, 42, 0.8);
    const tokens = [3, 7, 0, 10, 3, 5];
    const expected = naiveGpt2(config, weights, tokens);
    const small = new GPTInference(config, weights);
    const uncached = small.forwardAll(tokens);
    const cache = small.createCache();
    tokens.forEach((tok, t) => {
      const cached = small.forward([tok], cache);
      const scale = Math.max(1, ...expected[t].map(Math.abs));
      expect(maxAbsDiff(uncached[t], expected[t]) / scale).toBeLessThan(1e-5);
      expect(maxAbsDiff(cached, expected[t]) / scale).toBeLessThan(1e-5);
    });
  });

  it("2 layers, odd width (n_embd=6, n_head=3, vocab 13): the kernels' leftover paths agree too", () => {
    const config: GPTConfig = {
      vocab_size: 13,
      n_positions: 6,
      n_embd: 6,
      n_layer: 2,
      n_head: 3,
      layer_norm_epsilon: 1e-5,
    };
    const weights = randomWeights(config, 9, 0.6);
    const tokens = [12, 1, 4, 4, 9];
    const expected = naiveGpt2(config, weights, tokens);
    const got = new GPTInference(config, weights).forwardAll(tokens);
    tokens.forEach((_, t) => {
      const scale = Math.max(1, ...expected[t].map(Math.abs));
      expect(maxAbsDiff(got[t], expected[t]) / scale).toBeLessThan(1e-5);
    });
  });
});
