import { Hono } from "hono";
import { database } from "../../db/index.js";
import { deleteSession, deleteSessions, listSessions } from "../../db/sessions.js";
import type { AdminDeps, AdminEnv } from "../deps.js";
import { AdminError } from "../errors.js";
import { idParam } from "../input.js";

/**
 * The dashboard's sessions: GET /dashboard-sessions (open ones: id, client, browser, times;
 * never a secret), DELETE /dashboard-sessions/:id (ends one at once), DELETE
 * /dashboard-sessions (ends all of them).
 */
export function sessionRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  app.get("/", async (c) => c.json({ sessions: await listSessions(database(c.env.DB), deps.now()) }));
  app.delete("/", async (c) => c.json({ revoked: await deleteSessions(database(c.env.DB)) }));
  app.delete("/:id", async (c) => {
    if (!(await deleteSession(database(c.env.DB), idParam(c))))
      throw AdminError.notFound(`no dashboard session ${c.req.param("id")}`);
    return c.body(null, 204);
  });
  return app;
}
