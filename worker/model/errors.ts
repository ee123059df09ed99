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
  /** The Worker's configuration is missing or invalid. */
  | "config";

/** The model store's one error type; `kind` tells callers (admin API, serving) what to do. */
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
