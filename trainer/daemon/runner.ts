/**
 * One claimed job, start to finish: download the serving version and the clean
 * data, measure it, heal a copy, gate the copy, then publish (calibration → weights →
 * manifest) and complete the job with its metrics (the stages are in stages.ts). A
 * rejected job publishes nothing and says why. A lost lease stops the job wherever it
 * is, before anything is published; transient store or Worker failures abandon it (the
 * lease expires and the job is retried); anything else fails it with the reason.
 */
import { StoreError, type S3Bucket } from "../../shared/store/index.js";
import { DaemonError } from "./errors.js";
import type { HealTask } from "./heal.js";
import type { LeaseKeeper } from "./lease-keeper.js";
import type { DaemonOptions } from "./options.js";
import type { Reporter } from "./progress.js";
import { publishCapStage } from "./publish-cap.js";
import { recoverStage } from "./recover.js";
import { noStageSeconds, stageData, timed, type StageSeconds } from "./stage-clock.js";
import {
  alreadyHealed,
  complete,
  completeAlreadyHealed,
  download,
  gateHealed,
  healServed,
  jobInputs,
  measureServed,
  publishHealed,
  recover,
  reject,
  type Verdict,
} from "./stages.js";
import type { ClaimedJob, WorkerClient } from "./worker-client.js";

/** How a job ended for this trainer. */
export interface JobOutcome {
  /** `abandoned`: left to its lease (lost, or a transient failure); the Worker requeues it. */
  state: "succeeded" | "rejected" | "failed" | "abandoned";
  reason: string;
  version?: string;
  metrics?: Record<string, number>;
  stages: StageSeconds;
  /** True when the version was served by the Worker within the swap wait. */
  served?: boolean;
}

/** What the runner uses. */
export interface RunnerContext {
  options: DaemonOptions;
  /** The model store's bucket (manifest key and dataset prefix: `options.store`). */
  store: S3Bucket;
  worker: WorkerClient;
  report: Reporter;
  lease: LeaseKeeper;
}

/** How often a job heals again when the served version changed under it before it fails. */
const MAX_REBASES = 2;

/** Runs `job` (already claimed, lease kept by `ctx.lease`) and completes it. */
export async function runJob(ctx: RunnerContext, job: ClaimedJob): Promise<JobOutcome> {
  const stages = noStageSeconds();
  try {
    const outcome = await attempt(ctx, job, stages);
    ctx.report.emit(
      "done",
      `${outcome.state}${outcome.version ? ` → ${outcome.version}` : ""}: ${outcome.reason}`,
      job.id,
      { state: outcome.state, ...stageData(stages) },
    );
    return outcome;
  } catch (e) {
    const err = e as Error;
    if (transient(e)) {
      ctx.report.emit(
        "error",
        `abandoned (${e.kind}): ${err.message}; the lease will expire and the job be retried`,
        job.id,
      );
      return { state: "abandoned", reason: err.message, stages };
    }
    const reason = `${e instanceof DaemonError || e instanceof StoreError ? e.kind : err.name}: ${err.message}`;
    ctx.report.emit("error", `failed: ${reason}`, job.id);
    try {
      await ctx.worker.complete(job, { state: "failed", reason: reason.slice(0, 2000) });
    } catch (c) {
      ctx.report.emit("error", `could not record the failure: ${(c as Error).message}`, job.id);
    }
    return { state: "failed", reason, stages };
  }
}

/** The stages in order; heals again from the new serving version when it changed while the job ran. */
async function attempt(ctx: RunnerContext, job: ClaimedJob, stages: StageSeconds): Promise<JobOutcome> {
  const { lease, report, options } = ctx;
  const task = healTask(job);
  for (let rebase = 0; ; rebase++) {
    lease.assertHeld();
    const capped = await publishCapStage(ctx, job, stages); // before any work: a capped job costs nothing
    if (capped) return capped;
    const found = await timed(stages, "download", () => download(ctx, job, task));
    if (found.kind === "recovered") return recover(ctx, job, found.entry, stages);
    const served = found.served;

    lease.assertHeld();
    const inputs = jobInputs(ctx, served, task);
    const measured = await timed(stages, "gates", () => measureServed(ctx, job, served, inputs));
    if (alreadyHealed(job, served.base.version, measured.flagged, options.gates.maxFlaggedRate))
      return completeAlreadyHealed(ctx, job, served, measured, inputs, stages);

    const recovered = await timed(stages, "simulate", () => recoverStage(ctx, job, task, served, inputs));
    const method = recovered?.task ?? task;
    const healed = await healServed(ctx, job, method, served, inputs, stages);

    lease.assertHeld();
    const verdict = withNote(await gateHealed(ctx, job, inputs, measured, healed, stages), recovered?.note);
    if (!verdict.decision.passed) return reject(ctx, job, verdict, stages);
    const cappedNow = await publishCapStage(ctx, job, stages); // others may have published while it trained
    if (cappedNow) return cappedNow;

    const published = await timed(stages, "publish", () => publishHealed(ctx, job, method, served, healed, verdict));
    if (published.kind === "stale") {
      if (rebase >= MAX_REBASES)
        throw new DaemonError(
          "conflict",
          `the served version changed to ${published.current} while the job ran, ${MAX_REBASES + 1} times`,
        );
      report.emit(
        "download",
        `the served version changed to ${published.current} while the job ran: healing that one instead`,
        job.id,
      );
      continue;
    }
    return complete(ctx, job, published.entry, verdict, stages);
  }
}

/** `verdict` with `note` (how the job healed, when not as queued) in front of its reason. */
function withNote(verdict: Verdict, note: string | undefined): Verdict {
  if (!note) return verdict;
  return { ...verdict, decision: { ...verdict.decision, reason: `${note}. ${verdict.decision.reason}` } };
}

/**
 * Failures that leave the job to its lease (it expires and the job is retried): a lost
 * lease, and the Worker or the store unreachable or refusing the request.
 */
function transient(e: unknown): e is DaemonError | StoreError {
  if (e instanceof DaemonError) return e.kind === "lease_lost" || e.kind === "worker";
  return e instanceof StoreError && (e.kind === "unavailable" || e.kind === "config");
}

/**
 * The method's inputs from the job. SANDE-P simulates the job's span where the guard saw it (after
 * its typical lead-in) when the job carries one, else its target (a prefix at the answer's start).
 */
function healTask(job: ClaimedJob): HealTask {
  const target = job.target.trim();
  if (!target) throw new DaemonError("corrupt", `job ${job.id} has an empty target`);
  if (job.method === "osft") {
    if (!job.prefix)
      throw new DaemonError(
        "corrupt",
        `OSFT job ${job.id} needs the flagged prefix it removes (queue it with prefixId)`,
      );
    return { method: "osft", target, badText: job.prefix, triggerPosition: "start" };
  }
  if (job.method === "sande-p" && job.span?.trim()) {
    const span = job.span.trim();
    return { method: "sande-p", target: span, badText: span, leadIn: job.leadIn?.trim() ?? "" };
  }
  return { method: job.method, target, badText: target };
}
