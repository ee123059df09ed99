import { describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import { decodeModel, encodeModel } from "../../shared/model/file.js";
import { initWeights } from "../../shared/model/weights.js";
import { generate, GPTInference, type GenerateOptions } from "../../shared/inference/index.js";

// Runs inside workerd: proves the inference code needs nothing but the Workers runtime.
describe("inference in workerd", () => {
  const config = preset("tiny");
  // initWeights at std 0.02 gives near-uniform logits; scale up so greedy choices and cache checks mean something.
  const weights = initWeights(config, 5);
  for (const [name, t] of weights) if (!name.includes("ln_")) for (let i = 0; i < t.data.length; i++) t.data[i] *= 15;
  const file = decodeModel(encodeModel({ config, tokenizer: "byte", weights, metadata: {} }));
  const model = new GPTInference(file.config, file.weights);
  const prompt = [258, 104, 105, 260, 259];

  function tokens(options: GenerateOptions): number[] {
    const out: number[] = [];
    for (const step of generate(model, prompt, options)) out.push(step.token);
    return out;
  }

  it("loads a round-tripped model file and generates greedily, deterministically", () => {
    const a = tokens({ maxTokens: 8, temperature: 0 });
    const b = tokens({ maxTokens: 8, temperature: 0 });
    expect(a).toHaveLength(8);
    expect(a).toEqual(b);
    // The model built from the original weights agrees with the one from the file.
    const direct = new GPTInference(config, weights);
    const c: number[] = [];
    for (const step of generate(direct, prompt, { maxTokens: 8, temperature: 0 })) c.push(step.token);
    expect(c).toEqual(a);
  });

  it("cached and uncached logits agree", () => {
    const seq = [...prompt, ...tokens({ maxTokens: 6, temperature: 0.8, seed: 2 })];
    const reference = model.forwardAll(seq);
    const cache = model.createCache();
    let worst = 0;
    seq.forEach((tok, t) => {
      const logits = model.forward([tok], cache);
      for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i] - reference[t][i]));
    });
    expect(worst).toBeLessThanOrEqual(1e-5);
  });
});
