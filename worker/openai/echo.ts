/**
 * Legacy `echo`: the prompt sent back in front of the completion, as the model saw it
 * (its tokens decoded), and with `logprobs` each prompt token's log-probability after
 * the tokens before it (null for the first) and the most likely tokens there.
 */
import { scoreTokens, type ScoringLM } from "../../shared/inference/index.js";
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { PlacedToken } from "./align.js";
import type { LogprobToken } from "./logprobs.js";
import { ServedText } from "./served-text.js";

/** An echoed prompt: its text and, when logprobs were asked, its tokens placed in that text. */
export interface EchoedPrompt {
  text: string;
  tokens: PlacedToken<LogprobToken>[];
}

/** Echoes `ids`; with `logprobs` k (not null) scores them, listing the k most likely tokens per position. */
export function echoPrompt(
  model: ScoringLM,
  tokenizer: Tokenizer,
  ids: readonly number[],
  logprobs: number | null,
): EchoedPrompt {
  const scored: LogprobToken[] =
    logprobs === null ? ids.map((token) => ({ token, logprob: null })) : scoreTokens(model, ids, logprobs);
  const out = new ServedText<LogprobToken>(tokenizer, 0, []);
  let text = "";
  const tokens: PlacedToken<LogprobToken>[] = [];
  for (const piece of [...scored.map((t) => out.push(t)), out.end()]) {
    text += piece?.text ?? "";
    tokens.push(...(piece?.tokens ?? []));
  }
  return { text, tokens: logprobs === null ? [] : tokens };
}
