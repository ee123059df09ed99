/**
 * A legacy completion as server-sent events (`text_completion` chunks): with `echo`,
 * each choice's prompt first; then one chunk per piece of its answer (choices in turn),
 * a chunk with its finish_reason; the usage chunk if asked, and `[DONE]`. Each chunk's
 * `text_offset`s count from the start of its choice's whole text.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { StartedChoices } from "./choices.js";
import type { CompletionRequest } from "./completion-schema.js";
import { legacyLogprobs, shift } from "./completions-json.js";
import type { EchoedPrompt } from "./echo.js";
import { interleave } from "./interleave.js";
import { usage, type CompletionMeta } from "./serving.js";
import { generatorStream, SSE_DONE, sseData } from "./stream.js";

/** The event stream of `run`'s choices; the guard sessions are finished when it ends or the client goes away. */
export function textCompletionStream(
  request: Pick<CompletionRequest, "logprobs" | "includeUsage">,
  run: StartedChoices,
  prompts: readonly { ids: readonly number[] }[],
  echoes: readonly EchoedPrompt[] | undefined,
  tokenizer: Tokenizer,
  meta: CompletionMeta,
): ReadableStream<Uint8Array> {
  const events = completionEvents(request, run, prompts, echoes, tokenizer, meta);
  return generatorStream(events, () => run.finish(), "completions");
}

function* completionEvents(
  request: Pick<CompletionRequest, "logprobs" | "includeUsage">,
  run: StartedChoices,
  prompts: readonly { ids: readonly number[] }[],
  echoes: readonly EchoedPrompt[] | undefined,
  tokenizer: Tokenizer,
  meta: CompletionMeta,
): Generator<string, void, void> {
  const chunk = (choice: object): string => sseData({ ...meta, object: "text_completion", choices: [choice] });
  for (const choice of run.choices) {
    const echo = echoes?.[choice.prompt];
    if (echo) {
      const logprobs = request.logprobs === null ? null : legacyLogprobs(tokenizer, echo.tokens);
      yield chunk({ index: choice.index, text: echo.text, logprobs, finish_reason: null });
    }
  }
  let completionTokens = 0;
  for (const event of interleave(run.choices)) {
    const index = event.choice.index;
    if (event.piece) {
      // A piece's tokens are placed in the served answer, which starts after the echoed prompt.
      const echoed = echoes?.[event.choice.prompt].text.length ?? 0;
      const tokens = shift(event.piece.tokens, echoed);
      const logprobs = request.logprobs === null ? null : legacyLogprobs(tokenizer, tokens);
      yield chunk({ index, text: event.piece.text, logprobs, finish_reason: null });
    } else {
      completionTokens += event.outcome.completionTokens;
      yield chunk({ index, text: "", logprobs: null, finish_reason: event.outcome.finishReason });
    }
  }
  if (request.includeUsage) {
    const promptTokens = prompts.reduce((sum, p) => sum + p.ids.length, 0);
    yield sseData({ ...meta, object: "text_completion", choices: [], usage: usage(promptTokens, completionTokens) });
  }
  yield SSE_DONE;
}
