/**
 * The one error type of the HTTP API. Anything thrown while serving a request is
 * turned into OpenAI's error shape in one place (`app.onError`, see worker/app.ts).
 */

/** OpenAI's error `type` values that this API uses. */
export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "server_error"
  | "service_unavailable_error"
  /** OpenAI's type for a rate limit on requests (with code "rate_limit_exceeded"). */
  | "requests";

/** The JSON body OpenAI's clients expect for an error. */
export interface OpenAIErrorBody {
  error: {
    message: string;
    type: ApiErrorType;
    param: string | null;
    code: string | null;
  };
}

/**
 * An error with an HTTP status and OpenAI's error fields. `param` names the
 * offending request field (e.g. "messages[1].content"), `code` a machine-readable
 * reason (e.g. "model_not_found", "context_length_exceeded").
 */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 502 | 503,
    readonly type: ApiErrorType,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** A 400 invalid_request_error about `param`. */
  static invalid(message: string, param: string | null = null, code: string | null = null): ApiError {
    return new ApiError(400, "invalid_request_error", message, param, code);
  }

  /** The body to send. */
  toJSON(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** What an unexpected (non-ApiError) failure becomes: a 500 that does not leak internals. */
export function internalError(): ApiError {
  return new ApiError(
    500,
    "server_error",
    "The server had an error while processing your request.",
    null,
    "internal_error",
  );
}
