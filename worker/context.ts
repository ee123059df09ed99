/** Hono types and small per-request helpers shared by the Worker's routes. */
import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "./env.js";

/** The Worker's Hono environment: bindings, and what middleware sets per request. */
export interface AppEnv {
  Bindings: Env;
  Variables: { requestId: string };
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

/** Middleware: a request id (from `x-request-id` when sane, else a UUID), echoed in the response. */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestIdMiddleware(c, next) {
    const given = c.req.header("x-request-id");
    const id = given && /^[\w.:-]{1,100}$/.test(given) ? given : crypto.randomUUID();
    c.set("requestId", id);
    c.header("x-request-id", id);
    await next();
  };
}
