/** A legacy completion answered as one JSON object (`text_completion`). */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { PlacedToken } from "./align.js";
import type { StartedChoices } from "./choices.js";
import { drainWhileConnected } from "./drain.js";
import type { CompletionRequest } from "./completion-schema.js";
import type { EchoedPrompt } from "./echo.js";
import { appendLegacy, emptyLegacyLogprobs, type LegacyLogprobs, type LogprobToken } from "./logprobs.js";
import type { FinishReason } from "./respond.js";
import { usage, type CompletionMeta, type Usage } from "./serving.js";

/** OpenAI's `text_completion` object. */
export interface TextCompletion extends CompletionMeta {
  object: "text_completion";
  choices: { index: number; text: string; logprobs: LegacyLogprobs | null; finish_reason: FinishReason }[];
  usage: Usage;
}

/**
 * Runs every choice to its end, then finishes the guard sessions (also when a choice
 * fails, or the client goes away: `signal` aborted, ClientClosedError from drain.ts). With `echo` a choice's text is its prompt then its served answer, and its
 * logprobs cover exactly that: nothing the guard withheld is echoed or listed.
 */
export async function textCompletionJson(
  request: Pick<CompletionRequest, "logprobs">,
  run: StartedChoices,
  prompts: readonly { ids: readonly number[] }[],
  echoes: readonly EchoedPrompt[] | undefined,
  tokenizer: Tokenizer,
  meta: CompletionMeta,
  signal?: AbortSignal,
): Promise<TextCompletion> {
  let completionTokens = 0;
  const choices: TextCompletion["choices"] = [];
  try {
    for (const choice of run.choices) {
      const answer = await drainWhileConnected(choice.response, signal);
      completionTokens += answer.outcome.completionTokens;
      const echo = echoes?.[choice.prompt];
      const served = answer.pieces.flatMap((p) => p.tokens);
      choices.push({
        index: choice.index,
        text: (echo?.text ?? "") + answer.text,
        logprobs:
          request.logprobs === null
            ? null
            : legacyLogprobs(tokenizer, [...(echo?.tokens ?? []), ...shift(served, echo?.text.length ?? 0)]),
        finish_reason: answer.outcome.finishReason,
      });
    }
  } finally {
    run.finish();
  }
  const promptTokens = prompts.reduce((sum, p) => sum + p.ids.length, 0);
  return { ...meta, object: "text_completion", choices, usage: usage(promptTokens, completionTokens) };
}

/** Legacy logprobs of placed tokens (their offsets already in the choice's text). */
export function legacyLogprobs(tokenizer: Tokenizer, tokens: readonly PlacedToken<LogprobToken>[]): LegacyLogprobs {
  const out = emptyLegacyLogprobs();
  for (const t of tokens) appendLegacy(out, tokenizer, t.item, t.offset);
  return out;
}

/** `tokens` with their offsets moved by `by` (an answer's tokens after an echoed prompt). */
export function shift<T>(tokens: readonly PlacedToken<T>[], by: number): PlacedToken<T>[] {
  return tokens.map((t) => ({ item: t.item, offset: t.offset + by }));
}
