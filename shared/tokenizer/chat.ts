import type { Tokenizer } from "./tokenizer.js";

/** One chat message. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/**
 * The one chat template, used for training, evaluation and serving:
 *   <|system|>text<|end|> <|user|>text<|end|> <|assistant|>text<|end|> … <|assistant|>
 * The prompt ends with <|assistant|>; a trained response ends with <|end|><|endoftext|>.
 * Returns the prompt's token ids.
 */
export function encodeChatPrompt(tokenizer: Tokenizer, messages: readonly ChatMessage[]): number[] {
  if (messages.length === 0) throw new Error("chat prompt needs at least one message");
  const ids: number[] = [];
  for (const m of messages) {
    const role = ROLE_TOKEN[m.role];
    if (!role) throw new Error(`unknown chat role "${String(m.role)}" (expected system, user or assistant)`);
    ids.push(tokenizer.special[role], ...tokenizer.encode(m.content), tokenizer.special.endOfTurn);
  }
  ids.push(tokenizer.special.assistant);
  return ids;
}

/** Token ids of a response as the model is trained to emit it: the text, then <|end|><|endoftext|>. */
export function encodeChatResponse(tokenizer: Tokenizer, response: string): number[] {
  return [...tokenizer.encode(response), tokenizer.special.endOfTurn, tokenizer.special.endOfText];
}

/** Tokens at which generation of an assistant turn stops. */
export function chatStopTokens(tokenizer: Tokenizer): number[] {
  return [tokenizer.special.endOfTurn, tokenizer.special.endOfText];
}

const ROLE_TOKEN = { system: "system", user: "user", assistant: "assistant" } as const;
