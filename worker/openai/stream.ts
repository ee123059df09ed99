/**
 * Server-sent events as OpenAI streams them: one `data: <json>` event per chunk,
 * ending with `data: [DONE]`. The framing is pure; {@link eventStream} turns a
 * pull-driven source into a byte stream (one pull = one token's work, so other
 * requests interleave and a slow client slows the model, not memory).
 */

/** One SSE event carrying `value` as JSON. */
export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** The event that ends an OpenAI stream. */
export const SSE_DONE = "data: [DONE]\n\n";

/** Headers of an event-stream response. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};

/** A source of SSE text: `next()` returns the next events (possibly ""), or null when done. */
export interface EventSource {
  next(): string | null;
  /** Called once when the stream ends, completed or not (`cancelled` when the client went away). */
  close(cancelled: boolean): void;
  /** Turns an error thrown by next() into final events (e.g. an OpenAI error event). */
  fail(error: unknown): string;
}

/** A byte stream that pulls `source` as the client reads. */
export function eventStream(source: EventSource): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let closed = false;
  const close = (cancelled: boolean): void => {
    if (closed) return;
    closed = true;
    source.close(cancelled);
  };
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      let events: string | null;
      try {
        do events = source.next();
        while (events === "");
      } catch (error) {
        controller.enqueue(encoder.encode(source.fail(error)));
        controller.close();
        close(false);
        return;
      }
      if (events === null) {
        controller.close();
        close(false);
      } else controller.enqueue(encoder.encode(events));
    },
    cancel() {
      close(true);
    },
  });
}

/**
 * A byte stream of the SSE text a generator yields (one yield per pull). `close` runs
 * once when the stream ends, completed or cancelled; an error thrown by the generator
 * becomes a final OpenAI error event (the client's library raises it) and is logged
 * under `label`.
 */
export function generatorStream(
  events: Generator<string, void, void>,
  close: (cancelled: boolean) => void,
  label: string,
): ReadableStream<Uint8Array> {
  return eventStream({
    next() {
      const r = events.next();
      return r.done ? null : r.value;
    },
    close(cancelled) {
      if (cancelled) events.return();
      close(cancelled);
    },
    fail(error) {
      console.error(`${label} stream failed`, error);
      return sseData({
        error: {
          message: "The server had an error while generating the response.",
          type: "server_error",
          param: null,
          code: "internal_error",
        },
      });
    },
  });
}
