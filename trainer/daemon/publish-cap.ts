/**
 * The cap on automatic publishes (issue 12, 4e): the daemon publishes at most
 * `--max-publishes-per-day` automatically healed versions per 24 h, counted from the
 * manifest's version list (each version the daemon publishes for an automatic job carries
 * `metrics.automatic = 1`, and every version its `createdAt`). A job over the cap is
 * completed as rejected, naming the cap; an operator can still queue one by hand or approve
 * one (those are not automatic). Planning is pure; {@link publishCapStage} reads the manifest.
 */
import type { ManifestVersion } from "../../shared/protocol/manifest.js";
import type { RemediationJob } from "../../shared/protocol/jobs.js";
import { readManifest } from "../../shared/store/index.js";
import type { JobOutcome, RunnerContext } from "./runner.js";
import type { StageSeconds } from "./stage-clock.js";
import type { ClaimedJob } from "./worker-client.js";

/** The window the cap counts over. */
export const PUBLISH_CAP_WINDOW_MS = 24 * 3600_000;

/** The metric that marks a version as published for an automatic job. */
export const AUTOMATIC_METRIC = "automatic";

/** Automatic: the threshold rule queued it and no operator approved it (a manual job, or an approved one, is not). */
export function isAutomatic(job: Pick<RemediationJob, "source" | "approvedAt">): boolean {
  return job.source !== "manual" && job.approvedAt === undefined;
}

/** Versions published for automatic jobs within the window before `now` (ms). */
export function automaticPublishes(versions: readonly ManifestVersion[], now: number): number {
  return versions.filter((v) => {
    const at = Date.parse(v.createdAt);
    return v.metrics?.[AUTOMATIC_METRIC] === 1 && at > now - PUBLISH_CAP_WINDOW_MS && at <= now;
  }).length;
}

/** Why `job` may not publish now (null when it may): the cap is reached and the job is automatic. */
export function publishCapRefusal(
  job: Pick<RemediationJob, "source" | "approvedAt">,
  versions: readonly ManifestVersion[],
  now: number,
  maxPerDay: number,
): string | null {
  if (!isAutomatic(job)) return null;
  const published = automaticPublishes(versions, now);
  if (published < maxPerDay) return null;
  return (
    `publish cap reached: ${published} automatically healed version${published === 1 ? "" : "s"} published in the last 24 h ` +
    `(--max-publishes-per-day ${maxPerDay}); nothing published. An operator can queue the job again by hand.`
  );
}

/** The metrics a published version carries: the gates', marked when the job is automatic. */
export function publishedMetrics(job: ClaimedJob, metrics: Record<string, number>): Record<string, number> {
  return isAutomatic(job) ? { ...metrics, [AUTOMATIC_METRIC]: 1 } : metrics;
}

/**
 * Reads the manifest and, when the cap refuses `job`, completes it as rejected with the
 * reason and returns the outcome; null when the job may go on.
 */
export async function publishCapStage(
  ctx: RunnerContext,
  job: ClaimedJob,
  stages: StageSeconds,
): Promise<JobOutcome | null> {
  const { options, store, worker, report } = ctx;
  const read = await readManifest(store, options.store.manifestKey);
  const reason = publishCapRefusal(job, read?.manifest.versions ?? [], Date.now(), options.maxPublishesPerDay);
  if (reason === null) return null;
  report.emit("gates", reason, job.id);
  await worker.complete(job, { state: "rejected", reason });
  return { state: "rejected", reason, stages };
}
