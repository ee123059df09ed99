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

/** A thread's share of a measurement. */
export interface GreedyJob {
  config: GPTConfig;
  weights: Weights;
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
