/**
 * Log-probabilities in OpenAI's two shapes. The numbers are the model's own
 * distribution at each position (log-softmax of its logits, before logit_bias,
 * penalties, the guard's bans, temperature and top_p), as OpenAI reports them: the
 * same token at the same position has the same logprob whatever the sampling settings.
 */
import type { TokenLogprob } from "../../shared/inference/index.js";
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { tokenText } from "./token-text.js";

/** One alternative in chat's `top_logprobs`. */
export interface ChatTopLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

/** One entry of chat's `choices[].logprobs.content`. */
export interface ChatTokenLogprob extends ChatTopLogprob {
  top_logprobs: ChatTopLogprob[];
}

/** A served token: its id, logprob and (when asked) the most likely tokens at its position. */
export interface LogprobToken {
  token: number;
  /** null for the first token of a prompt (nothing predicts it). */
  logprob: number | null;
  top?: readonly TokenLogprob[] | null;
}

/** Chat's entry for a generated token. */
export function chatLogprob(
  tokenizer: Tokenizer,
  t: { token: number; logprob: number; top?: readonly TokenLogprob[] },
): ChatTokenLogprob {
  return {
    ...alternative(tokenizer, t.token, t.logprob),
    top_logprobs: (t.top ?? []).map((a) => alternative(tokenizer, a.token, a.logprob)),
  };
}

function alternative(tokenizer: Tokenizer, id: number, logprob: number): ChatTopLogprob {
  const { token, bytes } = tokenText(tokenizer, id);
  return { token, logprob, bytes };
}

/** Legacy completions' `choices[].logprobs`: parallel arrays, one element per token. */
export interface LegacyLogprobs {
  tokens: string[];
  /** null for the first token of an echoed prompt. */
  token_logprobs: (number | null)[];
  /** The k most likely tokens and the chosen one (so up to k + 1 keys), by spelling; null where token_logprobs is. */
  top_logprobs: (Record<string, number> | null)[];
  /** UTF-16 offset of each token's text in the choice's `text`. */
  text_offset: number[];
}

/** An empty set of legacy logprobs, to append to. */
export function emptyLegacyLogprobs(): LegacyLogprobs {
  return { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
}

/** Appends `t`, whose text starts at `offset` in the choice's text, to `into`. */
export function appendLegacy(into: LegacyLogprobs, tokenizer: Tokenizer, t: LogprobToken, offset: number): void {
  into.tokens.push(tokenText(tokenizer, t.token).token);
  into.token_logprobs.push(t.logprob);
  into.text_offset.push(offset);
  if (t.logprob === null) {
    into.top_logprobs.push(null);
    return;
  }
  const top: Record<string, number> = {};
  for (const a of t.top ?? []) top[tokenText(tokenizer, a.token).token] = a.logprob;
  top[tokenText(tokenizer, t.token).token] = t.logprob; // OpenAI: the chosen token is always listed
  into.top_logprobs.push(top);
}
