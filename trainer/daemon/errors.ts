/** Why a daemon operation failed; `kind` tells the job runner what to do next. */
export type DaemonErrorKind =
  /** Settings are missing or invalid (fix the command line / environment). */
  | "config"
  /** The Worker's admin API could not be reached or answered with an error (retry later). */
  | "worker"
  /** The lease on the job was lost (expired, or the job was completed by someone else): stop, publish nothing. */
  | "lease_lost"
  /** The job or the data it needs is unusable (empty target, missing clean dataset, no manifest): the job cannot run. */
  | "corrupt"
  /** The served version kept changing while the job ran (rollbacks or other publishers won every time). */
  | "conflict";

/** The trainer daemon's own error type (the model store throws shared/store's StoreError). */
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
