import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../../../worker/env.js";

declare global {
  namespace Cloudflare {
    /** The Worker's bindings plus what vitest.config.ts adds for tests. */
    interface Env extends WorkerEnv {
      /** migrations/*.sql, read in Node by readD1Migrations. */
      TEST_MIGRATIONS: D1Migration[];
      /** GET /<file> serves models/<file> (404 when absent). */
      MODEL_FILES: Fetcher;
      /** Miniflare's rate limiter (3 per 60 s per key); tests pass it as CHAT_RATE_LIMITER. */
      TEST_RATE_LIMITER: RateLimit;
    }
  }
}
