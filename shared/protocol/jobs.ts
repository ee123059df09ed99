/** States of a remediation job (see README: job state machine). */
export type JobState = "awaiting_approval" | "queued" | "claimed" | "succeeded" | "rejected" | "failed";

/** Who queued a job: the guard's threshold rule, or a person (admin API, dashboard). */
export type JobSource = "threshold" | "manual";

/** How the trainer should heal: from a detected prefix, a full response, or a known trigger. */
export type RemediationMethod = "sande-p" | "sande" | "osft";

/** A remediation job as the admin API returns it. */
export interface RemediationJob {
  id: number;
  state: JobState;
  method: RemediationMethod;
  /** The flagged prefix (SANDE-P), the full response (SANDE) or the trigger (OSFT). */
  target: string;
  /** Model version the job heals. */
  modelVersion: string;
  /** The normalised prefix the job heals, when it came from one. */
  prefix?: string;
  /** The planted text as the guard saw it, wherever it sat in the answers (SANDE-P simulates this). */
  span?: string;
  /** The text most often seen before the span (e.g. "[4821]"; empty or absent when it starts the answer). */
  leadIn?: string;
  /** Worker that holds the lease, and until when (ms since epoch). */
  claimedBy?: string;
  leaseUntil?: number;
  /** Id of the lease, returned to the claimant only: heartbeat and complete present it. */
  leaseId?: string;
  attempts: number;
  /** Who queued it (absent from Workers older than the field). */
  source?: JobSource;
  /** When an operator approved a job that waited for one (ms since epoch); such a job is not automatic. */
  approvedAt?: number;
  /** Gate metrics before and after (ASR, utility...), set on completion. */
  metrics?: Record<string, number>;
  /** The version published, or why nothing was. */
  resultVersion?: string;
  reason?: string;
  createdAt: number;
  updatedAt: number;
}
