import { ByteTokenizer } from "./byte.js";
import type { Tokenizer } from "./tokenizer.js";

export type { Tokenizer, SpecialTokens } from "./tokenizer.js";
export { ByteTokenizer } from "./byte.js";
export { encodeChatPrompt, encodeChatResponse, chatStopTokens, type ChatMessage } from "./chat.js";

/** The tokenizer a model file names in its metadata ("byte" for now; BPE plugs in here). */
export function tokenizerByName(name: string): Tokenizer {
  if (name === "byte") return new ByteTokenizer();
  throw new Error(`unknown tokenizer "${name}" (known: byte)`);
}
