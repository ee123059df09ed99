/**
 * Greedy answers split over worker threads are the answers one thread gives, in order, whatever the
 * number of threads; a model the threads cannot build is an error naming the cause.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { GPTInference } from "../../shared/inference/index.js";
import { preset } from "../../shared/model/config.js";
import { ByteTokenizer, encodeChatPrompt } from "../../shared/tokenizer/index.js";
import { greedyAnswers } from "../../trainer/eval/greedy-pool.js";
import { decodeGreedy } from "../../trainer/eval/greedy-protocol.js";
import { TfGPT } from "../../trainer/model/gpt.js";
import { selectBackend } from "../../trainer/tf/backend.js";
import type { ModelData } from "../../trainer/eval/greedy-pool.js";

const tokenizer = new ByteTokenizer();
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

  it("rejects a model the threads cannot build, and the pool still works after", async () => {
    const broken = { config: data.config, weights: new Map([...data.weights].filter(([n]) => n !== "wte.weight")) };
    await expect(greedyAnswers(broken, requests, 2)).rejects.toThrow(/greedy worker: .*wte/);
    expect(await greedyAnswers(data, requests.slice(0, 2), 2)).toHaveLength(2);
  }, 60_000);
});
