/** Why a model-store operation failed. */
export type StoreErrorKind =
  /** The store could not be reached or answered with an error (retry later). */
  | "unavailable"
  /** The key (or the manifest version) does not exist. */
  | "not_found"
  /** A conditional write lost: the manifest changed since it was read. */
  | "conflict"
  /** The object exists but its content is wrong (bad manifest, checksum mismatch, bad model file). */
  | "corrupt"
  /** The store settings are missing or invalid, or the store refused the request as malformed or unauthorised. */
  | "config";

/** The model store's one error type (Worker and trainer); `kind` tells callers (admin API, serving, the daemon) what to do. */
export class StoreError extends Error {
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StoreError";
  }
}
