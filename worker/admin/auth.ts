import type { MiddlewareHandler } from "hono";
import type { Env } from "../env.js";
import { AdminError } from "./errors.js";

/**
 * Compares two secrets in constant time: both are hashed (SHA-256) first, so neither
 * the position of the first difference nor the lengths show in the timing.
 */
export async function sameSecret(given: string, expected: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(given)),
    crypto.subtle.digest("SHA-256", enc.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

/** ADMIN_TOKEN, or an AdminError 503 when it is not configured (admin routes refuse to run without it). */
export function adminToken(env: Pick<Env, "ADMIN_TOKEN">): string {
  const token = env.ADMIN_TOKEN;
  if (!token)
    throw new AdminError(
      503,
      "unavailable",
      "the admin API is disabled: no ADMIN_TOKEN is configured (wrangler secret put ADMIN_TOKEN)",
    );
  return token;
}

/** Middleware: requires `Authorization: Bearer <ADMIN_TOKEN>` (401 otherwise; 503 when no token is configured). */
export function bearerAuth(): MiddlewareHandler<{ Bindings: Env }> {
  return async function adminBearerAuth(c, next) {
    const expected = adminToken(c.env);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    if (!match || !(await sameSecret(match[1], expected)))
      throw new AdminError(401, "unauthorized", "missing or wrong bearer token");
    await next();
  };
}
