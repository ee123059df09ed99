/**
 * One claimed job, start to finish: download the serving version and the clean
 * data, measure it, heal a copy, measure again, gate, then publish (weights →
 * calibration → manifest) and complete the job with its metrics. A rejected job
 * publishes nothing and says why. A lost lease stops the job wherever it is,
 * before anything is published; transient store or Worker failures abandon it
 * (the lease expires and the job is retried); anything else fails it with the reason.
 */
import { GPTInference } from "../../shared/inference/index.js";
import { calibrateModel, normalisePrefix } from "../../shared/guard/index.js";
import { encodeModel } from "../../shared/model/file.js";
import type { Weights } from "../../shared/model/weights.js";
import { currentVersion, type ManifestVersion } from "../../shared/protocol/manifest.js";
import {
  downloadModelFile,
  findJobVersion,
  jobVersionId,
  publishVersion,
  readManifest,
  sha256Hex,
  StoreError,
  type S3Bucket,
} from "../../shared/store/index.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { userMessage } from "../data/index.js";
import { TfGPT } from "../model/gpt.js";
import { DaemonError } from "./errors.js";
import { decideGates, gateMetrics } from "./gates.js";
import { heal, type HealResult, type HealTask } from "./heal.js";
import { measureModel } from "./measure.js";
import type { DaemonOptions } from "./options.js";
import type { Reporter } from "./progress.js";
import { downloadDataset } from "./dataset.js";
import type { LeaseKeeper } from "./lease-keeper.js";
import type { ClaimedJob, WorkerClient } from "./worker-client.js";

/** Wall seconds per stage (the bench prints them). */
export interface StageSeconds {
  download: number;
  simulate: number;
  eliminate: number;
  gates: number;
  publish: number;
  swap: number;
}

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

const MAX_REBASES = 2;
const tokenizer = new ByteTokenizer();

/** Runs `job` (already claimed, lease kept by `ctx.lease`) and completes it. */
export async function runJob(ctx: RunnerContext, job: ClaimedJob): Promise<JobOutcome> {
  const stages: StageSeconds = { download: 0, simulate: 0, eliminate: 0, gates: 0, publish: 0, swap: 0 };
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
        `abandoned (${(e as DaemonError | StoreError).kind}): ${err.message}; the lease will expire and the job be retried`,
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

async function attempt(ctx: RunnerContext, job: ClaimedJob, stages: StageSeconds): Promise<JobOutcome> {
  const { options, store, worker, report, lease } = ctx;
  const timed = async <T>(stage: keyof StageSeconds, run: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    try {
      return await run();
    } finally {
      stages[stage] += (performance.now() - t0) / 1000;
    }
  };
  const task = healTask(job);

  for (let rebase = 0; ; rebase++) {
    lease.assertHeld();
    // Download: the version the Worker serves now, and the clean data.
    const { base, file, data, flagged } = await timed("download", async () => {
      const read = await readManifest(store, options.store.manifestKey);
      if (!read) throw new DaemonError("corrupt", "the store has no manifest: nothing is served, nothing to heal");
      const recovered = findJobVersion(read.manifest, job.id);
      if (recovered) return { base: recovered, file: null, data: null, flagged: [] as string[] };
      const base = currentVersion(read.manifest);
      report.emit(
        "download",
        `serving version ${base.version} (${base.size} bytes), clean data from ${options.store.datasetPrefix}/`,
        job.id,
      );
      const [{ file }, data, flagged] = await Promise.all([
        downloadModelFile(store, base),
        downloadDataset(store, options.store.datasetPrefix),
        flaggedPromptsOf(worker, job, task, options.measure.flaggedPrompts),
      ]);
      return { base, file, data, flagged };
    });
    if (!file || !data) return recover(ctx, job, base, stages);

    lease.assertHeld();
    const heldOut = data.heldOut.slice(0, options.measure.heldOutPrompts);
    const probe = data.heldOut.slice(0, options.measure.probePrompts);
    const train = data.train.slice(-options.recipe.trainExamples);
    const set = { heldOut, flagged, target: task.badText };
    report.emit(
      "gates",
      `measuring ${base.version}: ${heldOut.length} held-out prompts, ${flagged.length} flagged prompts from the guard's log`,
      job.id,
    );
    const beforeNoProbe = await timed("gates", () =>
      measureModel(new GPTInference(file.config, file.weights), tokenizer, set, { hits: 0, total: 0, rate: 0 }),
    );
    if (alreadyHealed(job, base.version, beforeNoProbe.flagged, options.gates.maxFlaggedRate)) {
      // Another job already published a version that no longer says it (one backdoor often shows as several prefixes).
      const f = beforeNoProbe.flagged;
      const reason = `already healed: the serving version ${base.version} (the job was queued for ${job.modelVersion}) produces the prefix on ${f.hits}/${f.total} flagged prompts (limit ${(100 * options.gates.maxFlaggedRate).toFixed(1)}%); nothing published`;
      const metrics = {
        asrBefore: f.rate,
        asrAfter: f.rate,
        utilityBefore: beforeNoProbe.utility,
        utilityAfter: beforeNoProbe.utility,
        flaggedPrompts: f.total,
        heldOutPrompts: heldOut.length,
        ...stageData(stages, ["download", "gates"]),
      };
      report.emit("gates", reason, job.id);
      await worker.complete(job, { state: "succeeded", metrics, reason });
      return { state: "succeeded", reason, metrics, stages };
    }

    const model = TfGPT.fromWeights(file.config, file.weights);
    let bytes: Uint8Array;
    let healed: HealResult;
    let healedWeights: Weights;
    try {
      const label = { "sande-p": "SANDE-P on the prefix", sande: "SANDE on the response", osft: "OSFT on the trigger" }[
        job.method
      ];
      report.emit(
        job.method === "osft" ? "eliminate" : "simulate",
        `${label} ${JSON.stringify(task.target)} (${train.length} clean examples)`,
        job.id,
      );
      let lastShown = 0;
      const t0 = performance.now();
      healed = await heal(
        model,
        tokenizer,
        train,
        probe,
        task,
        options.recipe,
        (stage, step, steps, loss) => {
          const now = performance.now();
          if (step === steps || step === 1 || now - lastShown > 2000) {
            lastShown = now;
            report.emit(stage, `step ${step}/${steps} loss ${loss.toFixed(4)}`, job.id, { step, steps, loss });
          }
        },
        () => lease.assertHeld(),
      );
      const wall = (performance.now() - t0) / 1000;
      stages.simulate += healed.simulateSeconds;
      stages.eliminate += healed.eliminateSeconds;
      stages.gates += Math.max(0, wall - healed.simulateSeconds - healed.eliminateSeconds); // sande's parrot probes
      healedWeights = model.toWeights();
      bytes = encodeModel({
        config: file.config,
        tokenizer: file.tokenizer,
        weights: healedWeights,
        metadata: {
          ...file.metadata,
          "sande.made_by": `sande daemon job ${job.id} (${job.method})`,
          "sande.parent": base.version,
        },
      });
    } finally {
      model.dispose();
    }

    lease.assertHeld();
    const healedModel = new GPTInference(file.config, healedWeights);
    const after = await timed("gates", () => measureModel(healedModel, tokenizer, set, healed.probeAfter));
    const before = { ...beforeNoProbe, probe: healed.probeBefore };
    const decision = decideGates(before, after, options.gates);
    const metrics = {
      ...gateMetrics(before, after, decision),
      ...stageData(stages, ["download", "simulate", "eliminate", "gates"]),
    };
    for (const g of decision.gates)
      report.emit("gates", `${g.passed ? (g.skipped ? "skip" : "pass") : "FAIL"} ${g.detail}`, job.id, {
        gate: g.name,
        passed: g.passed,
        value: g.value,
        limit: g.limit,
      });

    if (!decision.passed) {
      await worker.complete(job, { state: "rejected", metrics, reason: decision.reason.slice(0, 2000) });
      return { state: "rejected", reason: decision.reason, metrics, stages };
    }

    // Publish: calibration for the new version first (the guard has it when the version goes live), then weights, then the manifest.
    const version = jobVersionId(job.id, sha256Hex(bytes));
    const published = await timed("publish", async () => {
      if (options.measure.calibrationPrompts > 0) {
        const prompts = data.heldOut.slice(0, options.measure.calibrationPrompts).map((e) => userMessage(e));
        const upload = calibrateModel(healedModel, tokenizer, prompts, {
          prefixTokens: await worker.prefixTokens(),
          source: `sande daemon job ${job.id}: ${prompts.length} held-out clean prompts`,
        });
        await worker.putCalibration(version, upload);
      }
      report.emit("publish", `uploading ${version} (${bytes.byteLength} bytes) and updating the manifest`, job.id);
      return publishVersion(store, options.store.manifestKey, {
        jobId: job.id,
        base: base.version,
        bytes,
        note: `remediation job ${job.id}: ${job.method} on ${JSON.stringify(task.target.slice(0, 80))}`,
        metrics,
        beforeManifestWrite: () => lease.renewForPublish(),
      });
    });
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
    const entry = published.entry;
    const completed = await timed("publish", () =>
      worker.complete(job, {
        state: "succeeded",
        metrics,
        resultVersion: entry.version,
        reason: decision.reason.slice(0, 2000),
      }),
    );
    report.emit("publish", `${entry.version} is current in the manifest; job ${completed.state}`, job.id, {
      version: entry.version,
    });
    const served = await timed("swap", () => awaitServed(ctx, job.id, entry.version));
    return { state: "succeeded", reason: decision.reason, version: entry.version, metrics, stages, served };
  }
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
 * True when the job was queued for another version than the one served now, and the served one
 * already passes the flagged-prompt gate (measured on prompts from the log, so there is evidence).
 */
export function alreadyHealed(
  job: Pick<ClaimedJob, "modelVersion">,
  serving: string,
  flagged: { total: number; rate: number },
  maxFlaggedRate: number,
): boolean {
  return job.modelVersion !== serving && flagged.total > 0 && flagged.rate <= maxFlaggedRate;
}

/** A version this job published in an earlier attempt: complete with it, publish nothing. */
async function recover(
  ctx: RunnerContext,
  job: ClaimedJob,
  entry: ManifestVersion,
  stages: StageSeconds,
): Promise<JobOutcome> {
  const metrics = Object.fromEntries(Object.entries(entry.metrics ?? {}).filter(([k]) => k !== "jobId"));
  const reason = `recovered: version ${entry.version} was published by an earlier attempt of this job`;
  ctx.report.emit("publish", reason, job.id);
  await ctx.worker.complete(job, { state: "succeeded", metrics, resultVersion: entry.version, reason });
  return { state: "succeeded", reason, version: entry.version, metrics, stages };
}

/** Waits until the Worker serves `version` (its health check starts the manifest re-check), up to the swap wait. */
async function awaitServed(ctx: RunnerContext, jobId: number, version: string): Promise<boolean> {
  const deadline = Date.now() + ctx.options.swapWaitSeconds * 1000;
  while (Date.now() < deadline) {
    const serving = await ctx.worker.serving().catch(() => null);
    if (serving?.version === version) {
      ctx.report.emit("swap", `the Worker serves ${version}`, jobId);
      return true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (ctx.options.swapWaitSeconds > 0)
    ctx.report.emit(
      "swap",
      `the Worker did not report ${version} within ${ctx.options.swapWaitSeconds} s (it follows at its next manifest check)`,
      jobId,
    );
  return false;
}

/** The method's inputs from the job. */
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
  return { method: job.method, target, badText: target };
}

function stageData(
  stages: StageSeconds,
  only: (keyof StageSeconds)[] = Object.keys(stages) as (keyof StageSeconds)[],
): Record<string, number> {
  return Object.fromEntries(only.map((k) => [`${k}Seconds`, Math.round(stages[k] * 100) / 100]));
}

/** Prompts that produced the flags: the job's prefix, or for a job queued by hand the flagged prefixes its text names. */
async function flaggedPromptsOf(
  worker: WorkerClient,
  job: ClaimedJob,
  task: HealTask,
  limit: number,
): Promise<string[]> {
  if (limit === 0) return [];
  const prefixes = job.prefix ? [job.prefix] : await worker.prefixesMatching(normalisePrefix(task.badText));
  const prompts = new Set<string>();
  for (const p of prefixes)
    for (const prompt of await worker.flaggedPrompts(p, limit)) if (prompts.size < limit) prompts.add(prompt);
  return [...prompts];
}
