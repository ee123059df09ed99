import { env } from "cloudflare:test";
import { Hono } from "hono";
import { createAdminApp, type AdminDeps } from "../../../worker/admin/index.js";
import type { Env } from "../../../worker/env.js";

export const TOKEN = "test-admin-token-0123456789";

/** A Worker-like app with the admin API mounted as in production, and a caller for it. */
export function adminClient(deps: Partial<AdminDeps>, bindings: Partial<Env> = {}) {
  const app = new Hono().route("/admin/api", createAdminApp(deps));
  const testEnv: Env = { ...env, ADMIN_TOKEN: TOKEN, ...bindings };
  /** Calls the admin API; `T` is the JSON shape the test reads (unchecked). */
  return async function call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    token: string | null = TOKEN,
  ): Promise<{ status: number; json: T; res: Response }> {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await app.request(
      `/admin/api${path}`,
      {
        method,
        headers,
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      },
      testEnv,
    );
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : null) as T, res };
  };
}
