/** Bindings and variables of the Worker (wrangler.toml [vars], secrets, D1). */
export interface Env {
  DB: D1Database;
  /** S3-compatible endpoint (s3rver locally, R2's S3 API or AWS S3 in production). */
  S3_ENDPOINT: string;
  S3_REGION: string;
  S3_BUCKET: string;
  S3_ACCESS_KEY_ID: string;
  /** Secret. */
  S3_SECRET_ACCESS_KEY?: string;
  /** Key of the model manifest in the bucket. */
  MANIFEST_KEY: string;
  /** Seconds between manifest checks (conditional GET). */
  MODEL_CHECK_INTERVAL_S: string;
  /** Model id shown by /v1/models. */
  MODEL_NAME: string;
  /** Secret; admin routes refuse to run without it. */
  ADMIN_TOKEN?: string;
  /** Optional: trainer webhook notified (HMAC-signed) when a job is queued. */
  TRAINER_WEBHOOK_URL?: string;
  /** Secret for the webhook's HMAC signature. */
  WEBHOOK_SECRET?: string;
  /** Optional: "open" or "closed", what the guard does when D1 cannot be read and no guard state was ever loaded (default: the stored setting, else "open"). */
  GUARD_FAIL_MODE?: string;
  /**
   * Secret, optional: API keys for /v1 (comma-separated `key` or `name:key`). When set, the
   * chat and completions routes need `Authorization: Bearer <key>` (worker/clients).
   */
  CHAT_API_KEYS?: string;
  /** Optional Cloudflare rate-limiting binding (`[[ratelimits]]`) for the chat and completions routes, per client. */
  CHAT_RATE_LIMITER?: RateLimit;
}
