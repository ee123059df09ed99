/**
 * Reading a request body with a size limit, for every API that takes one (OpenAI
 * serving, the admin API): the Content-Length is checked before any byte is read, and
 * reading stops at the first chunk past the limit, so an oversized body is never
 * buffered. Each caller turns the refusal into its own error shape.
 */

/** Makes the caller's "too large" error from the size seen (declared or read so far) and the limit. */
export type TooLarge = (size: number, maxBytes: number) => Error;

/**
 * Bodies up to this many times the limit are read to the end (and dropped) before the
 * refusal, so the connection stays usable for the next request (wrangler dev's proxy
 * otherwise fails the next request on it); larger ones are cancelled.
 */
const DRAIN_FACTOR = 16;

/** The body of `request`, at most `maxBytes`; throws `tooLarge(…)` past it. No body reads as empty. */
export async function readLimitedBytes(request: Request, maxBytes: number, tooLarge: TooLarge): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    await drain(request, maxBytes * DRAIN_FACTOR);
    throw tooLarge(Number(declared), maxBytes);
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      reader.releaseLock();
      await drain(request, maxBytes * DRAIN_FACTOR);
      throw tooLarge(size, maxBytes);
    }
    chunks.push(value);
  }
  return concat(chunks, size);
}

async function drain(request: Request, maxBytes: number): Promise<void> {
  if (!request.body) return;
  const reader = request.body.getReader();
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    size += value.byteLength;
    if (size > maxBytes) return void (await reader.cancel().catch(() => undefined));
  }
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
