/**
 * The admin API, a Hono sub-app meant to be mounted at /admin/api:
 *   app.route("/admin/api", adminApp)
 * Every route needs `Authorization: Bearer <ADMIN_TOKEN>`; without a configured token
 * they all answer 503. Errors are `{error:{message,type}}` (see ./errors.ts).
 */
import { Hono } from "hono";
import { guardRuntime } from "../guard/index.js";
import { modelStatus, rollbackTo } from "../model/index.js";
import { bearerAuth } from "./auth.js";
import type { AdminDeps, AdminEnv } from "./deps.js";
import { AdminError, adminError } from "./errors.js";
import { eventRoutes } from "./routes/events.js";
import { approvalRoutes } from "./routes/approval.js";
import { jobRoutes } from "./routes/jobs.js";
import { phraseRoutes } from "./routes/phrases.js";
import { prefixRoutes } from "./routes/prefixes.js";
import { sessionRoutes } from "./routes/sessions.js";
import { settingsRoutes } from "./routes/settings.js";
import { versionRoutes } from "./routes/versions.js";

export type { AdminDeps, AdminEnv } from "./deps.js";
export { AdminError } from "./errors.js";
export { sameSecret } from "./auth.js";

/** The real dependencies: the clock, this isolate's guard runtime, worker/model's rollback and status. */
export function defaultAdminDeps(): AdminDeps {
  return {
    now: Date.now,
    runtime: guardRuntime(),
    rollback: (env, version, note) => rollbackTo(env, version, note),
    servingStatus: (env) => {
      try {
        return modelStatus(env);
      } catch {
        return null;
      }
    },
  };
}

/** Builds the admin app; `overrides` replace dependencies (tests). */
export function createAdminApp(overrides: Partial<AdminDeps> = {}): Hono<AdminEnv> {
  const deps: AdminDeps = { ...defaultAdminDeps(), ...overrides };
  const app = new Hono<AdminEnv>();
  app.onError(adminError);
  app.use(bearerAuth());
  app.route("/events", eventRoutes());
  app.route("/prefixes", prefixRoutes(deps));
  app.route("/jobs", approvalRoutes(deps));
  app.route("/jobs", jobRoutes(deps));
  app.route("/versions", versionRoutes(deps));
  app.route("/settings", settingsRoutes(deps));
  app.route("/phrases", phraseRoutes(deps));
  app.route("/dashboard-sessions", sessionRoutes(deps));
  app.all("*", (c) => {
    throw AdminError.notFound(`no admin route ${c.req.method} ${c.req.path}`);
  });
  return app;
}

/** The admin API with the real dependencies; mount at /admin/api. */
export const adminApp = createAdminApp();
