import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { PhraseRuleError, SettingsError } from "../../shared/guard/index.js";
import { StoreError } from "../model/index.js";

/** Kinds of admin API errors, as `error.type`. */
export type AdminErrorType =
  | "invalid_request"
  | "too_large"
  | "unauthorized"
  | "not_found"
  | "conflict"
  | "unavailable"
  | "internal";

/** The admin API's one error type; {@link adminError} turns it (and known library errors) into `{error:{message,type}}`. */
export class AdminError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly type: AdminErrorType,
    message: string,
  ) {
    super(message);
    this.name = "AdminError";
  }

  static invalid(message: string): AdminError {
    return new AdminError(400, "invalid_request", message);
  }

  static notFound(message: string): AdminError {
    return new AdminError(404, "not_found", message);
  }

  static conflict(message: string): AdminError {
    return new AdminError(409, "conflict", message);
  }

  /** A 413 for a body of `size` bytes (declared or read so far) over `maxBytes`. */
  static tooLarge(this: void, size: number, maxBytes: number): AdminError {
    return new AdminError(413, "too_large", `the body is too large: ${size} bytes, the limit is ${maxBytes}`);
  }
}

const STORE_ERRORS: Record<StoreError["kind"], [ContentfulStatusCode, AdminErrorType]> = {
  not_found: [404, "not_found"],
  conflict: [409, "conflict"],
  unavailable: [503, "unavailable"],
  corrupt: [502, "unavailable"],
  config: [500, "internal"],
};

/** Maps any error to an AdminError (unknown ones become a logged 500 that reveals nothing). */
export function toAdminError(err: unknown): AdminError {
  if (err instanceof AdminError) return err;
  if (err instanceof SettingsError || err instanceof PhraseRuleError) return AdminError.invalid(err.message);
  if (err instanceof StoreError) {
    const [status, type] = STORE_ERRORS[err.kind];
    return new AdminError(status, type, `model store: ${err.message}`);
  }
  if (err instanceof HTTPException)
    return new AdminError(
      err.status as ContentfulStatusCode,
      err.status === 401 ? "unauthorized" : "invalid_request",
      err.message || "request refused",
    );
  return new AdminError(500, "internal", "internal error");
}

/** The admin app's error handler: `{error:{message,type}}` with the error's status. */
export function adminError(err: Error, c: Context): Response {
  const e = toAdminError(err);
  if (e.type === "internal") console.error(`admin ${c.req.method} ${c.req.path} failed:`, err);
  if (e.status === 401) c.header("WWW-Authenticate", 'Bearer realm="sande-admin"');
  return c.json({ error: { message: e.message, type: e.type } }, e.status);
}
