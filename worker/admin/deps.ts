import type { Env } from "../env.js";
import type { GuardRuntime } from "../guard/index.js";
import type { ModelManifest } from "../../shared/protocol/manifest.js";

/** Hono environment of the admin and dashboard apps. */
export interface AdminEnv {
  Bindings: Env;
}

/** What the admin routes use besides D1, replaceable in tests. */
export interface AdminDeps {
  /** Clock, ms. */
  now: () => number;
  /** This isolate's guard runtime: its cached state is dropped after every write that changes it. */
  runtime: GuardRuntime;
  /** Points the model manifest at `version` (worker/model's rollbackTo). */
  rollback: (env: Env, version: string, note: string) => Promise<{ manifest: ModelManifest; status?: unknown }>;
  /** What this isolate serves (worker/model's status), or null when unknown. */
  servingStatus: (env: Env) => unknown;
  /** fetch for the trainer webhook. */
  fetch?: typeof fetch;
}
