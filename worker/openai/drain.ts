/**
 * Pulling a non-streamed answer to its end while the client is still there. The model
 * runs one token per pull (respond.ts), synchronously; between pulls this yields to the
 * event loop, so the request's abort signal (workerd's `enable_request_signal`: the
 * client disconnected) can fire, and checks it before every pull. A gone client stops
 * the generation there: nobody would read the answer.
 */
import type { DrainedChoice } from "./choices.js";
import type { ServedPiece, StartedResponse } from "./respond.js";

/** Thrown when the client went away before a non-streamed answer was complete (the app answers 499, to nobody). */
export class ClientClosedError extends Error {
  override name = "ClientClosedError";
  constructor(readonly completionTokens: number) {
    super(`the client closed the connection; generation stopped after ${completionTokens} tokens`);
  }
}

/** Lets pending events (a client's abort among them) run before the next token is generated. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * A choice's whole answer, pulled piece by piece with `signal` checked before each pull;
 * throws {@link ClientClosedError} (after stopping the choice's model) once it is aborted.
 */
export async function drainWhileConnected(
  response: StartedResponse,
  signal: AbortSignal | undefined,
): Promise<DrainedChoice> {
  const pieces: ServedPiece[] = [];
  let text = "";
  let tokens = 0;
  for (;;) {
    if (signal) await nextTurn();
    if (signal?.aborted) {
      response.pieces.return({ finishReason: "stop", completionTokens: tokens }); // stops its model too
      throw new ClientClosedError(tokens);
    }
    const r = response.pieces.next();
    if (r.done) return { text, pieces, outcome: r.value };
    pieces.push(r.value);
    text += r.value.text;
    tokens += r.value.tokens.length;
  }
}
