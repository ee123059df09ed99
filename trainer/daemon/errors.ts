/** Why a daemon operation failed; `kind` tells the job runner what to do next. */
export type DaemonErrorKind =
  /** Settings are missing or invalid (fix the command line / environment). */
  | "config"
  /** The Worker's admin API could not be reached or answered with an error (retry later). */
  | "worker"
  /** The lease on the job was lost (expired, or the job was completed by someone else): stop, publish nothing. */
  | "lease_lost"
  /** The object store could not be reached or answered with an error (retry later). */
  | "store"
  /** An object in the store is missing or wrong (checksum, size, undecodable): the job cannot run. */
  | "corrupt"
  /** The manifest moved on since it was read (another publisher or a rollback won). */
  | "conflict";

/** The trainer daemon's one error type. */
export class DaemonError extends Error {
  constructor(
    readonly kind: DaemonErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DaemonError";
  }
}
