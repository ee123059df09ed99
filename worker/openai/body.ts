/** Reading a JSON request body with a size limit, failing with OpenAI-shaped 4xx errors. */
import { readLimitedBytes } from "../http/limited-body.js";
import { ApiError } from "./errors.js";

/**
 * Reads and parses the JSON body of `request`, refusing bodies over `maxBytes`
 * (413, checked against Content-Length first, then while reading), bodies that
 * are not UTF-8 or not JSON (400).
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const bytes = await readLimitedBytes(request, maxBytes, tooLarge);
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

function tooLarge(size: number, max: number): ApiError {
  return new ApiError(
    413,
    "invalid_request_error",
    `The request body is too large: ${size} bytes, the limit is ${max}.`,
    null,
    "request_too_large",
  );
}
