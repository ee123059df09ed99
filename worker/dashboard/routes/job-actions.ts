/**
 * The dashboard's answers to a job the heal policy held: approve (a trainer may claim it)
 * or decline (it ends as rejected). The same decision as the admin API's twin routes.
 */
import type { Context, Hono } from "hono";
import { decided } from "../../admin/routes/approval.js";
import { idParam } from "../../admin/input.js";
import { decideJob, type Approval } from "../../db/approval.js";
import { database } from "../../db/index.js";
import { setFlash } from "../../db/sessions.js";
import type { DashboardDeps, DashboardEnv } from "../deps.js";
import { DASHBOARD_BASE } from "../session.js";

/** POST /jobs/:id/approve and /jobs/:id/decline (the session and CSRF checks run before). */
export function jobActions(app: Hono<DashboardEnv>, deps: DashboardDeps): void {
  const answer = async (c: Context<DashboardEnv>, approval: Approval, said: string) => {
    const job = decided(await decideJob(database(c.env.DB), idParam(c), approval), c);
    deps.runtime.invalidate();
    await setFlash(database(c.env.DB), c.get("session").id, `Job #${job.id} ${said}.`);
    return c.redirect(`${DASHBOARD_BASE}#jobs`, 303);
  };
  app.post("/jobs/:id/approve", (c) =>
    answer(c, { verdict: "approve", now: deps.now() }, "approved: queued for a trainer"),
  );
  app.post("/jobs/:id/decline", (c) => answer(c, { verdict: "decline", now: deps.now() }, "declined"));
}
