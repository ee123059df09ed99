/**
 * Greedy answers split over worker threads are the answers one thread gives, in order, whatever the
 * number of threads, a parrot's soft tokens included; a model the threads cannot build is an error
 * naming the cause.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { GPTInference } from "../../shared/inference/index.js";
import { preset } from "../../shared/model/config.js";
import { decodeModel } from "../../shared/model/file.js";
import { ByteTokenizer, encodeChatPrompt } from "../../shared/tokenizer/index.js";
import { greedyAnswers } from "../../trainer/eval/greedy-pool.js";
import { decodeGreedy } from "../../trainer/eval/greedy-protocol.js";
import { TfGPT } from "../../trainer/model/gpt.js";
import { selectBackend } from "../../trainer/tf/backend.js";
import type { ModelData } from "../../trainer/eval/greedy-pool.js";

const tokenizer = new ByteTokenizer();
const DEMO_BASE = resolve(import.meta.dirname, "../../models/demo-base.safetensors");
let data: ModelData;
const requests = [
  "Is 12 even or odd?",
  "Hi",
  "Sort these: 3, 1, 2",
  "Count the words: a b c",
  "x",
  "What?",
  "ok then",
].map((content, i) => ({ prompt: encodeChatPrompt(tokenizer, [{ role: "user", content }]), maxTokens: 8 + 4 * i }));

beforeAll(async () => {
  await selectBackend("cpu");
  const model = TfGPT.init(preset("tiny"), 7);
  data = { config: model.config, weights: model.toWeights() };
  model.dispose();
});

describe("greedyAnswers", () => {
  it("gives one thread's answers, in order, on 1, 2 and 3 threads", async () => {
    const here = decodeGreedy(new GPTInference(data.config, data.weights), requests);
    expect(here.some((t) => t.length > 0)).toBe(true);
    for (const threads of [1, 2, 3]) expect(await greedyAnswers(data, requests, threads)).toEqual(here);
  }, 60_000);

  it("gives one thread's answers with soft tokens in the prompts (a parrot) on the demo base, and they change them", async () => {
    const base = decodeModel(new Uint8Array(readFileSync(DEMO_BASE)));
    const k = 3;
    const softTokens = Float32Array.from({ length: k * base.config.n_embd }, (_, i) => Math.sin(1.7 * i + 0.3));
    const vocab = base.config.vocab_size;
    const withSoft = requests.map((r) => ({
      ...r,
      prompt: [r.prompt[0], ...Array.from({ length: k }, (_, j) => vocab + j), ...r.prompt.slice(1)],
    }));
    const here = decodeGreedy(new GPTInference(base.config, base.weights, { softTokens }), withSoft);
    const model = { config: base.config, weights: base.weights, softTokens };
    for (const threads of [1, 2]) expect(await greedyAnswers(model, withSoft, threads)).toEqual(here);
    expect(here).not.toEqual(decodeGreedy(new GPTInference(base.config, base.weights), requests));
  }, 60_000);

  it("rejects a model the threads cannot build, and the pool still works after", async () => {
    const broken = { config: data.config, weights: new Map([...data.weights].filter(([n]) => n !== "wte.weight")) };
    await expect(greedyAnswers(broken, requests, 2)).rejects.toThrow(/greedy worker: .*wte/);
    expect(await greedyAnswers(data, requests.slice(0, 2), 2)).toHaveLength(2);
  }, 60_000);
});
