/**
 * Streaming several choices at once: their pieces in turn, one pull each, so `n`
 * streamed choices advance together (as OpenAI streams them, each chunk for one index).
 */
import type { Choice } from "./choices.js";
import type { ResponseOutcome, ServedPiece } from "./respond.js";

/** The next thing to send for one choice: a piece of its answer, or how it ended. */
export type ChoiceEvent =
  | { choice: Choice; piece: ServedPiece; outcome?: undefined }
  | { choice: Choice; piece?: undefined; outcome: ResponseOutcome };

/**
 * Pulls the choices round-robin until every one has ended. Closing it early (return())
 * closes every choice's answer, which stops its model.
 */
export function* interleave(choices: readonly Choice[]): Generator<ChoiceEvent, void, void> {
  let open = [...choices];
  try {
    while (open.length > 0) {
      const still: Choice[] = [];
      for (const choice of open) {
        const r = choice.response.pieces.next();
        if (r.done) yield { choice, outcome: r.value };
        else {
          still.push(choice);
          yield { choice, piece: r.value };
        }
      }
      open = still;
    }
  } finally {
    for (const choice of open) choice.response.pieces.return(CLOSED);
  }
}

/** Return value for answers closed early (ignored). */
const CLOSED: ResponseOutcome = { finishReason: "stop", completionTokens: 0 };
