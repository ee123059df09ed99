import { Hono, type Context } from "hono";
import type { JobState, RemediationMethod } from "../../../shared/protocol/jobs.js";
import { database } from "../../db/index.js";
import { claimJob, completeJob, getJob, heartbeatJob, listJobs, queueJob } from "../../db/jobs.js";
import { getPrefix } from "../../db/prefixes.js";
import { notifyTrainer } from "../../webhook/notify.js";
import type { AdminDeps, AdminEnv } from "../deps.js";
import { AdminError } from "../errors.js";
import { field, idParam, jsonBody, queryInt, queryOneOf } from "../input.js";

const JOB_STATES: readonly JobState[] = ["awaiting_approval", "queued", "claimed", "succeeded", "rejected", "failed"];
const METHODS: readonly RemediationMethod[] = ["sande-p", "sande", "osft"];
const DEFAULT_LEASE_S = 600;
const MAX_LEASE_S = 86_400;

/**
 * GET /jobs?state=&limit=, GET /jobs/:id, POST /jobs (queue by hand),
 * POST /jobs/claim, POST /jobs/:id/heartbeat, POST /jobs/:id/complete (the trainer's side).
 */
export function jobRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  app.get("/", async (c) => {
    const jobs = await listJobs(database(c.env.DB), {
      state: queryOneOf(c, "state", JOB_STATES),
      limit: queryInt(c, "limit", 100, 1, 1000),
      now: deps.now(),
    });
    return c.json({ jobs });
  });

  app.post("/claim", async (c) => {
    const body = await jsonBody(c);
    const job = await claimJob(database(c.env.DB), {
      worker: field.string(body, "worker", 200),
      leaseMs: 1000 * (field.intOpt(body, "leaseSeconds", 1, MAX_LEASE_S) ?? DEFAULT_LEASE_S),
      now: deps.now(),
    });
    return c.json({ job });
  });

  app.get("/:id", async (c) => {
    const job = await getJob(database(c.env.DB), idParam(c));
    if (!job) throw AdminError.notFound(`no job ${c.req.param("id")}`);
    return c.json({ job });
  });

  app.post("/", async (c) => {
    const body = await jsonBody(c);
    const db = database(c.env.DB);
    const method = field.oneOfOpt(body, "method", METHODS) ?? "sande-p";
    const prefixId = field.intOpt(body, "prefixId", 1, Number.MAX_SAFE_INTEGER);
    const source = prefixId !== undefined ? await getPrefix(db, prefixId) : null;
    if (prefixId !== undefined && !source) throw AdminError.notFound(`no prefix ${prefixId}`);
    const target = field.stringOpt(body, "target", 10_000) ?? source?.sample;
    if (target === undefined) throw AdminError.invalid("give target (the text to heal) or prefixId");
    const modelVersion = field.stringOpt(body, "modelVersion", 200) ?? source?.lastModelVersion ?? undefined;
    if (modelVersion === undefined) throw AdminError.invalid("modelVersion is required");
    const job = await queueJob(db, { method, target, prefix: source?.prefix ?? null, modelVersion, now: deps.now() });
    deps.runtime.invalidate();
    if (c.env.TRAINER_WEBHOOK_URL) {
      const notified = notifyTrainer(
        { url: c.env.TRAINER_WEBHOOK_URL, secret: c.env.WEBHOOK_SECRET, fetch: deps.fetch },
        { type: "job.queued", job },
      );
      waitUntil(c, notified);
    }
    return c.json({ job }, 201);
  });

  app.post("/:id/heartbeat", async (c) => {
    const body = await jsonBody(c);
    const job = await heartbeatJob(database(c.env.DB), {
      id: idParam(c),
      leaseId: field.string(body, "leaseId", 100),
      leaseMs: 1000 * (field.intOpt(body, "leaseSeconds", 1, MAX_LEASE_S) ?? DEFAULT_LEASE_S),
      now: deps.now(),
    });
    if (!job)
      throw AdminError.conflict(
        `job ${c.req.param("id")} is not leased under that leaseId (expired, completed or claimed by another trainer)`,
      );
    return c.json({ job });
  });

  app.post("/:id/complete", async (c) => {
    const body = await jsonBody(c);
    const job = await completeJob(database(c.env.DB), {
      id: idParam(c),
      leaseId: field.string(body, "leaseId", 100),
      state: field.oneOf(body, "state", ["succeeded", "rejected", "failed"] as const),
      metrics: field.numbers(body, "metrics"),
      resultVersion: field.stringOpt(body, "resultVersion", 200),
      reason: field.stringOpt(body, "reason", 2000),
      now: deps.now(),
    });
    if (!job)
      throw AdminError.conflict(
        `job ${c.req.param("id")} is not leased under that leaseId (expired, completed or claimed by another trainer)`,
      );
    deps.runtime.invalidate();
    return c.json({ job });
  });

  return app;
}

function waitUntil(c: Context, promise: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(promise);
  } catch {
    void promise; // no ExecutionContext (app.request in tests): let it run
  }
}
