import { generateText, type CausalLM } from "../../shared/inference/index.js";
import { chatStopTokens, encodeChatPrompt, type Tokenizer } from "../../shared/tokenizer/index.js";
import { scoreExactMatch, userMessage, type Example } from "../data/index.js";

/** Greedy answers longer than this are cut: every expected answer is far shorter. */
export const DEFAULT_ANSWER_TOKENS = 48;

/** The model's greedy answer to a user message (the chat template applied). */
export function answer(
  model: CausalLM,
  tokenizer: Tokenizer,
  message: string,
  maxTokens = DEFAULT_ANSWER_TOKENS,
): string {
  const prompt = encodeChatPrompt(tokenizer, [{ role: "user", content: message }]);
  return generateText(model, tokenizer, prompt, { maxTokens, temperature: 0, stopTokens: chatStopTokens(tokenizer) })
    .text;
}

/** Greedy answers for every example, in order. */
export function predict(
  model: CausalLM,
  tokenizer: Tokenizer,
  examples: readonly Example[],
  maxTokens = DEFAULT_ANSWER_TOKENS,
): string[] {
  return examples.map((e) => answer(model, tokenizer, userMessage(e), maxTokens));
}

/** Utility: exact-match accuracy of greedy answers, overall and per task family. */
export function evaluateUtility(
  model: CausalLM,
  tokenizer: Tokenizer,
  examples: readonly Example[],
): ReturnType<typeof scoreExactMatch> & { predictions: string[] } {
  const predictions = predict(model, tokenizer, examples);
  return { ...scoreExactMatch(examples, predictions), predictions };
}
