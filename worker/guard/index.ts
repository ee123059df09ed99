/**
 * The response-prefix guard in the Worker: serving calls `createResponseGuard(env)` and
 * follows the contract in ./contract.ts (begin → inspect → finish).
 */
import { database } from "../db/index.js";
import type { Env } from "../env.js";
import type { GuardRequest, GuardSession, ResponseGuard } from "./contract.js";
import { GuardRuntime } from "./runtime.js";
import { ResponseGuardSession, type WriteTarget } from "./session.js";

export type {
  GuardDecision,
  GuardRequest,
  GuardSession,
  HeldPrefix,
  ResponseGuard,
  SpanMatch,
  SpanWatch,
} from "./contract.js";
export { GuardRuntime, type GuardRuntimeOptions } from "./runtime.js";

/** The bindings the guard uses. */
export type GuardEnv = Pick<Env, "DB" | "TRAINER_WEBHOOK_URL" | "WEBHOOK_SECRET" | "GUARD_FAIL_MODE">;

let isolateRuntime: GuardRuntime | undefined;

/** The isolate's runtime (state cache, counters, write buffer), shared by every request. */
export function guardRuntime(): GuardRuntime {
  return (isolateRuntime ??= new GuardRuntime());
}

/**
 * The guard for a request's env. Cheap (no I/O): call it per request or once. State is
 * cached in `runtime` (the isolate's by default), so `begin` reads D1 only when the
 * cached state is older than `settings.cacheSeconds`. `options.fetch` replaces the
 * global fetch for the trainer webhook (tests).
 */
export function createResponseGuard(
  env: GuardEnv,
  runtime: GuardRuntime = guardRuntime(),
  options: { fetch?: typeof fetch } = {},
): ResponseGuard {
  const target: WriteTarget = {
    db: database(env.DB),
    webhook: env.TRAINER_WEBHOOK_URL
      ? { url: env.TRAINER_WEBHOOK_URL, secret: env.WEBHOOK_SECRET, fetch: options.fetch }
      : undefined,
  };
  const failMode = env.GUARD_FAIL_MODE === "closed" || env.GUARD_FAIL_MODE === "open" ? env.GUARD_FAIL_MODE : undefined;
  return {
    async begin(request: GuardRequest): Promise<GuardSession> {
      const state = await runtime.state(target.db, request.modelVersion, failMode);
      return new ResponseGuardSession(runtime, state, request, target);
    },
  };
}
