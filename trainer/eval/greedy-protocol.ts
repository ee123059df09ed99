/** What the main thread and a greedy worker thread (`greedy-pool.ts`) send each other, and the decoding both run. */
import { generateText, type CausalLM } from "../../shared/inference/index.js";
import type { GPTConfig } from "../../shared/model/config.js";
import type { Weights } from "../../shared/model/weights.js";
import { ByteTokenizer, chatStopTokens } from "../../shared/tokenizer/index.js";

/** One prompt (token ids, the chat template applied) and how many tokens its answer may take. */
export interface GreedyRequest {
  prompt: readonly number[];
  maxTokens: number;
}

/** A thread's share of a measurement: the model (with its soft tokens, when a parrot is in the prompts) and the prompts. */
export interface GreedyJob {
  config: GPTConfig;
  weights: Weights;
  /** Input-only embeddings for ids V … V+k−1 (k·C, row-major: a parrot); absent: none. */
  softTokens?: Float32Array;
  requests: readonly GreedyRequest[];
}

export type GreedyReply = { kind: "texts"; texts: string[] } | { kind: "error"; message: string };

const tokenizer = new ByteTokenizer();
const stopTokens = chatStopTokens(tokenizer);

/** Greedy answers of `model` (byte tokenizer; end of turn or text stops), in order. */
export function decodeGreedy(model: CausalLM, requests: readonly GreedyRequest[]): string[] {
  return requests.map(
    (r) => generateText(model, tokenizer, r.prompt, { maxTokens: r.maxTokens, temperature: 0, stopTokens }).text,
  );
}
