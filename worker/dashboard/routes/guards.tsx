/** The signed-in routes' middleware: a session (else the sign-in page, or 401 for an action) and, on POST, its CSRF token. */
import type { MiddlewareHandler } from "hono";
import { adminToken } from "../../admin/auth.js";
import { AdminError } from "../../admin/errors.js";
import { database } from "../../db/index.js";
import type { DashboardDeps, DashboardEnv } from "../deps.js";
import { CSRF_FIELD, currentSession, validCsrf } from "../session.js";
import { LoginPage } from "../views/login.js";

/** Sets `session`; a GET without one gets the sign-in page (401), any other method a 401 error. */
export function requireSession(deps: DashboardDeps): MiddlewareHandler<DashboardEnv> {
  return async function dashboardSession(c, next) {
    const session = await currentSession(c, database(c.env.DB), adminToken(c.env), deps.now());
    if (!session) {
      if (c.req.method === "GET" || c.req.method === "HEAD") return c.html(<LoginPage />, 401);
      throw new AdminError(401, "unauthorized", "Sign in first.");
    }
    c.set("session", session);
    await next();
  };
}

/** On POST: the form must carry the session's CSRF token (403 otherwise). */
export function requireCsrf(): MiddlewareHandler<DashboardEnv> {
  return async function dashboardCsrf(c, next) {
    if (c.req.method === "POST") {
      const given = (await c.req.parseBody())[CSRF_FIELD];
      if (!(await validCsrf(c.get("session"), given)))
        throw new AdminError(
          403,
          "unauthorized",
          "This form did not come from your dashboard session (its CSRF token is missing or wrong). Reload the page and try again.",
        );
    }
    await next();
  };
}
