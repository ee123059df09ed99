/** Hono types and small per-request helpers shared by the Worker's routes. */
import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "./env.js";

/** The Worker's Hono environment: bindings, and what middleware sets per request. */
export interface AppEnv {
  Bindings: Env;
  /**
   * `client`: who is asking (worker/clients/identity.ts; set on /v1 routes); `evaluation`: the
   * operator's evaluation traffic, served without the guard (worker/clients/evaluation.ts).
   */
  Variables: { requestId: string; client?: string; evaluation?: boolean };
}

/** The request's `waitUntil` (work that must finish after the answer, e.g. D1 writes or a model check). */
export function waitUntilOf(c: Context<AppEnv>): (promise: Promise<unknown>) => void {
  let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined; // app.request() in Node tests: no ExecutionContext
  }
  if (ctx) return ctx.waitUntil.bind(ctx);
  return (promise) => void promise.catch(() => undefined);
}

/**
 * Middleware: a server-generated request id (a UUID: the guard stores events under it,
 * so a client must not choose it), sent as `x-request-id`. A client's own
 * `x-client-request-id` (as OpenAI's API accepts) is echoed back when sane.
 */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestIdMiddleware(c, next) {
    const id = crypto.randomUUID();
    c.set("requestId", id);
    c.header("x-request-id", id);
    const client = c.req.header("x-client-request-id");
    if (client && /^[\w.:-]{1,512}$/.test(client)) c.header("x-client-request-id", client);
    await next();
  };
}
