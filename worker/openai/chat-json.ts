/** A chat completion answered as one JSON object (`chat.completion`). */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { StartedChoices } from "./choices.js";
import { drainWhileConnected } from "./drain.js";
import { chatLogprob, type ChatTokenLogprob } from "./logprobs.js";
import type { FinishReason } from "./respond.js";
import type { ChatRequest } from "./schema.js";
import { usage, type CompletionMeta, type Usage } from "./serving.js";

/** OpenAI's `chat.completion` object. */
export interface ChatCompletion extends CompletionMeta {
  object: "chat.completion";
  choices: {
    index: number;
    message: { role: "assistant"; content: string; refusal: null };
    logprobs: { content: ChatTokenLogprob[]; refusal: null } | null;
    finish_reason: FinishReason;
  }[];
  usage: Usage;
}

/**
 * Runs every choice to its end, then finishes the guard sessions (also when a choice
 * fails, or the client goes away: `signal` aborted, ClientClosedError from drain.ts). With `logprobs`, each choice lists the tokens it served, held-back ones
 * included once released; text the guard withheld or replaced has no entries.
 */
export async function chatCompletionJson(
  request: Pick<ChatRequest, "logprobs">,
  run: StartedChoices,
  promptTokens: number,
  tokenizer: Tokenizer,
  meta: CompletionMeta,
  signal?: AbortSignal,
): Promise<ChatCompletion> {
  let completionTokens = 0;
  const choices: ChatCompletion["choices"] = [];
  try {
    for (const choice of run.choices) {
      const answer = await drainWhileConnected(choice.response, signal);
      completionTokens += answer.outcome.completionTokens;
      choices.push({
        index: choice.index,
        message: { role: "assistant", content: answer.text, refusal: null },
        logprobs: request.logprobs
          ? {
              content: answer.pieces.flatMap((p) => p.tokens.map((t) => chatLogprob(tokenizer, t.item))),
              refusal: null,
            }
          : null,
        finish_reason: answer.outcome.finishReason,
      });
    }
  } finally {
    run.finish();
  }
  return { ...meta, object: "chat.completion", choices, usage: usage(promptTokens, completionTokens) };
}
