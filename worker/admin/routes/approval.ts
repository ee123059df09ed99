import { Hono, type Context } from "hono";
import type { RemediationJob } from "../../../shared/protocol/jobs.js";
import { decideJob, type Approval, type ApprovalResult } from "../../db/approval.js";
import { database } from "../../db/index.js";
import { notifyTrainer } from "../../webhook/notify.js";
import type { AdminDeps, AdminEnv } from "../deps.js";
import { AdminError } from "../errors.js";
import { field, idParam, jsonBody } from "../input.js";

/**
 * POST /jobs/:id/approve and POST /jobs/:id/decline (body `{"note"?: string}`): an operator's
 * answer to a job the heal policy held. 404 for an unknown job, 409 for one not awaiting approval.
 * An approved job is announced to the trainer webhook like a queued one.
 */
export function approvalRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  app.post("/:id/approve", async (c) => {
    const job = decided(await decideJob(database(c.env.DB), idParam(c), { verdict: "approve", now: deps.now() }), c);
    deps.runtime.invalidate();
    announce(c, deps, job);
    return c.json({ job });
  });

  app.post("/:id/decline", async (c) => {
    const body = c.req.header("content-type") ? await jsonBody(c) : {}; // the body is optional
    const answer: Approval = { verdict: "decline", note: field.stringOpt(body, "note", 500), now: deps.now() };
    const job = decided(await decideJob(database(c.env.DB), idParam(c), answer), c);
    deps.runtime.invalidate();
    return c.json({ job });
  });

  return app;
}

/** The decided job, or the AdminError that says why nothing was decided. */
export function decided(result: ApprovalResult, c: Context): RemediationJob {
  if (result.kind === "not_found") throw AdminError.notFound(`no job ${c.req.param("id")}`);
  if (result.kind === "not_awaiting")
    throw AdminError.conflict(`job ${result.job.id} is ${result.job.state}, not awaiting approval`);
  return result.job;
}

function announce(c: Context<AdminEnv>, deps: AdminDeps, job: RemediationJob): void {
  if (!c.env.TRAINER_WEBHOOK_URL) return;
  const sent = notifyTrainer(
    { url: c.env.TRAINER_WEBHOOK_URL, secret: c.env.WEBHOOK_SECRET, fetch: deps.fetch },
    { type: "job.queued", job },
  );
  try {
    c.executionCtx.waitUntil(sent);
  } catch {
    void sent; // no ExecutionContext (app.request in tests): let it run
  }
}
