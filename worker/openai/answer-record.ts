/**
 * What a choice generated, for the guard's end-of-response check: the model's tokens as
 * the served pieces carry them (held-back ones included once released), and whether the
 * answer ran to its end.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { GeneratedAnswer } from "../guard/contract.js";
import type { ResponseOutcome, ServedPiece, StartedResponse } from "./respond.js";

/** A response whose pieces are recorded as they are pulled. */
export interface RecordedResponse {
  response: StartedResponse;
  /** The answer so far (special tokens decode to nothing). */
  answer(): GeneratedAnswer;
}

/** Wraps `response` so that every piece pulled is recorded; closing it early closes the original. */
export function recordAnswer(response: StartedResponse, tokenizer: Tokenizer): RecordedResponse {
  const tokens: number[] = [];
  const logprobs: number[] = [];
  let finished = false;
  const inner = response.pieces;
  function* pieces(): Generator<ServedPiece, ResponseOutcome, void> {
    try {
      for (;;) {
        const r = inner.next();
        if (r.done) {
          finished = true;
          return r.value;
        }
        for (const t of r.value.tokens) {
          tokens.push(t.item.token);
          logprobs.push(t.item.logprob);
        }
        yield r.value;
      }
    } finally {
      if (!finished) inner.return({ finishReason: "stop", completionTokens: 0 });
    }
  }
  return {
    response: { ...response, pieces: pieces() },
    answer: () => ({
      text: new TextDecoder().decode(tokenizer.bytes(tokens)),
      tokens: [...tokens],
      logprobs: [...logprobs],
      finished,
    }),
  };
}
