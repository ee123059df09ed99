/** Reading a JSON request body with a size limit, failing with OpenAI-shaped 4xx errors. */
import { ApiError } from "./errors.js";

/**
 * Reads and parses the JSON body of `request`, refusing bodies over `maxBytes`
 * (413, checked against Content-Length first, then while reading), bodies that
 * are not UTF-8 or not JSON (400).
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    await drain(request, maxBytes * DRAIN_FACTOR);
    throw tooLarge(Number(declared), maxBytes);
  }
  const bytes = await readLimited(request, maxBytes);
  if (bytes.byteLength === 0)
    throw ApiError.invalid("The request body is empty; expected a JSON object.", null, "invalid_json");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw ApiError.invalid("The request body is not valid UTF-8.", null, "invalid_json");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw ApiError.invalid(
      `We could not parse the JSON body of your request: ${(e as Error).message}`,
      null,
      "invalid_json",
    );
  }
}

/**
 * Bodies up to this many times the limit are read to the end (and dropped) before
 * the 413, so the connection stays usable for the next request (wrangler dev's
 * proxy otherwise fails the next request on it); larger ones are cancelled.
 */
const DRAIN_FACTOR = 16;

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

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
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
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function tooLarge(size: number, max: number): ApiError {
  return new ApiError(
    413,
    "invalid_request_error",
    `The request body is too large: ${size} bytes, the limit is ${max}.`,
    null,
    "request_too_large",
  );
}
