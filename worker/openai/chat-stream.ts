/**
 * A chat completion as server-sent events (`chat.completion.chunk`): per choice a
 * first chunk with the role, then one chunk per piece of its answer (choices in turn),
 * a chunk with its finish_reason; then the usage chunk if asked, and `[DONE]`.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { StartedChoices } from "./choices.js";
import { interleave } from "./interleave.js";
import { chatLogprob } from "./logprobs.js";
import type { ChatRequest } from "./schema.js";
import { usage, type CompletionMeta } from "./serving.js";
import { generatorStream, SSE_DONE, sseData } from "./stream.js";

/** The event stream of `run`'s choices; the guard sessions are finished when it ends or the client goes away. */
export function chatCompletionStream(
  request: Pick<ChatRequest, "logprobs" | "includeUsage">,
  run: StartedChoices,
  promptTokens: number,
  tokenizer: Tokenizer,
  meta: CompletionMeta,
): ReadableStream<Uint8Array> {
  return generatorStream(chatEvents(request, run, promptTokens, tokenizer, meta), () => run.finish(), "chat");
}

function* chatEvents(
  request: Pick<ChatRequest, "logprobs" | "includeUsage">,
  run: StartedChoices,
  promptTokens: number,
  tokenizer: Tokenizer,
  meta: CompletionMeta,
): Generator<string, void, void> {
  const chunk = (choice: object): string => sseData({ ...meta, object: "chat.completion.chunk", choices: [choice] });
  for (const { index } of run.choices)
    yield chunk({ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null });
  let completionTokens = 0;
  for (const event of interleave(run.choices)) {
    const index = event.choice.index;
    if (event.piece) {
      const { text, tokens } = event.piece;
      const logprobs = request.logprobs
        ? { content: tokens.map((t) => chatLogprob(tokenizer, t.item)), refusal: null }
        : null;
      yield chunk({ index, delta: { content: text }, logprobs, finish_reason: null });
    } else {
      completionTokens += event.outcome.completionTokens;
      yield chunk({ index, delta: {}, logprobs: null, finish_reason: event.outcome.finishReason });
    }
  }
  if (request.includeUsage)
    yield sseData({
      ...meta,
      object: "chat.completion.chunk",
      choices: [],
      usage: usage(promptTokens, completionTokens),
    });
  yield SSE_DONE;
}
