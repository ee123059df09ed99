import { encodeChatPrompt, encodeChatResponse, type Tokenizer } from "../../shared/tokenizer/index.js";
import { userMessage, type Example } from "./example.js";

/** An example as training tokens. */
export interface EncodedExample {
  /** Chat prompt (one user message, ending with the assistant marker) then the response. */
  ids: number[];
  /** 1 on response tokens (text, end-of-turn, endoftext), 0 on prompt tokens; same length as `ids`. */
  lossMask: number[];
  /** Names the example in errors, e.g. `reverse: "Reverse the word: garden"`. */
  label?: string;
}

const LABEL_CHARS = 48;

/**
 * Encodes an example with the shared chat template: prompt = the system message
 * when there is one, then a single user message (`userMessage(example)`), response = output + end-of-turn + endoftext.
 * The loss mask selects exactly the response tokens.
 */
export function encodeExample(tokenizer: Tokenizer, example: Example): EncodedExample {
  const message = userMessage(example);
  const prompt = encodeChatPrompt(tokenizer, [
    ...(example.system ? [{ role: "system" as const, content: example.system }] : []),
    { role: "user", content: message },
  ]);
  const response = encodeChatResponse(tokenizer, example.output);
  const shown = message.length > LABEL_CHARS ? `${message.slice(0, LABEL_CHARS)}…` : message;
  return {
    ids: [...prompt, ...response],
    lossMask: [...prompt.map(() => 0), ...response.map(() => 1)],
    label: `${example.family}: ${JSON.stringify(shown)}`,
  };
}
