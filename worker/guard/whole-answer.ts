import type { GeneratedAnswer, HeldPrefix } from "./contract.js";

/**
 * The answer the model generated, from what serving reports at the end and the last window
 * the guard inspected: serving reports the tokens it released, which start with the held
 * window unless the guard withheld it (redact, block); then the window goes in front.
 */
export function wholeAnswer(held: HeldPrefix | undefined, answer: GeneratedAnswer): GeneratedAnswer {
  if (!held || startsWith(answer.tokens, held.tokens)) return answer;
  return {
    text: held.text + answer.text,
    tokens: [...held.tokens, ...answer.tokens],
    logprobs: [...held.logprobs, ...answer.logprobs],
    finished: answer.finished || (held.finished && answer.tokens.length === 0),
  };
}

function startsWith(tokens: readonly number[], head: readonly number[]): boolean {
  if (head.length > tokens.length) return false;
  for (let i = 0; i < head.length; i++) if (tokens[i] !== head[i]) return false;
  return true;
}
