/**
 * The trainer daemon's loop: claim a job (with a lease), run it while the lease
 * is renewed, repeat; sleep between empty claims. Any number of daemons may run
 * against one Worker: the Worker hands each job to exactly one claimant.
 */
import { S3Bucket } from "../../shared/store/index.js";
import { selectBackend } from "../tf/backend.js";
import { DaemonError } from "./errors.js";
import { LeaseKeeper } from "./lease-keeper.js";
import type { DaemonOptions } from "./options.js";
import { Reporter } from "./progress.js";
import { runJob, type JobOutcome } from "./runner.js";
import { WorkerClient, type ClaimedJob } from "./worker-client.js";

/** Runs until `signal` aborts or `options.maxJobs` jobs were handled; returns their outcomes. */
export async function runDaemon(
  options: DaemonOptions,
  signal: AbortSignal,
  report = new Reporter(options.workerName, options.eventsFile),
): Promise<JobOutcome[]> {
  const backend = await selectBackend(options.backend);
  report.emit(
    "idle",
    `backend ${backend.backend} (${backend.reason}); worker ${options.workerUrl}, store ${options.store.endpoint}/${options.store.bucket}`,
  );
  // Model files can be large: a longer timeout than the Worker's, and retries on 5xx.
  const store = new S3Bucket({ ...options.store, timeoutMs: 600_000, retries: 3 });
  const worker = new WorkerClient(options.workerUrl, options.token);
  const outcomes: JobOutcome[] = [];
  const claims = new Claims(worker, options, report, signal);
  while (!signal.aborted && (options.maxJobs === 0 || outcomes.length < options.maxJobs)) {
    const claimed = await claims.next();
    if (!claimed) continue;
    const { job, claimedAt } = claimed;
    report.emit(
      "claim",
      `claimed (${job.method} on ${JSON.stringify(job.target)}, version ${job.modelVersion}, attempt ${job.attempts}, lease ${options.leaseSeconds} s)`,
      job.id,
      { attempt: job.attempts },
    );
    const lease = new LeaseKeeper(worker, job, options.leaseSeconds, claimedAt, (m) => report.emit("error", m, job.id));
    try {
      outcomes.push(await runJob({ options, store, worker, report, lease }, job));
    } finally {
      lease.stop();
    }
  }
  return outcomes;
}

/** The claim stage: asks the Worker for the oldest queued job; waits (polling, or backing off after failures) when there is none. */
class Claims {
  private failures = 0;
  private waitingSaid = false;

  constructor(
    private readonly worker: WorkerClient,
    private readonly options: DaemonOptions,
    private readonly report: Reporter,
    private readonly signal: AbortSignal,
  ) {}

  /**
   * A claimed job with the time the claim was sent (the lease counts from there), or null
   * after waiting: nothing queued (`pollSeconds`), or the claim failed (exponential backoff,
   * 30 s at most). A configuration error (e.g. a refused token) is thrown.
   */
  async next(): Promise<{ job: ClaimedJob; claimedAt: number } | null> {
    const { options, report } = this;
    const claimedAt = Date.now();
    let job: ClaimedJob | null;
    try {
      job = await this.worker.claim(options.workerName, options.leaseSeconds);
      this.failures = 0;
    } catch (e) {
      if (e instanceof DaemonError && e.kind === "config") throw e;
      this.failures++;
      report.emit("error", `claim failed (${this.failures}×): ${(e as Error).message}`);
      await sleep(Math.min(30, options.pollSeconds * 2 ** Math.min(this.failures, 5)) * 1000, this.signal);
      return null;
    }
    if (!job) {
      if (!this.waitingSaid) report.emit("idle", `no job queued; polling every ${options.pollSeconds} s`);
      this.waitingSaid = true;
      await sleep(options.pollSeconds * 1000, this.signal);
      return null;
    }
    this.waitingSaid = false;
    return { job, claimedAt };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
