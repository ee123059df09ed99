/**
 * The stages of one attempt at a claimed job, each a named step that the runner
 * (runner.ts) calls in order: download the serving version → measure it → heal a copy →
 * gate the healed copy against it → publish → complete (or: recover a version an earlier
 * attempt published, complete as already healed, reject).
 */
import { calibrateModel, normalisePrefix } from "../../shared/guard/index.js";
import { GPTInference } from "../../shared/inference/index.js";
import { encodeModel, type ModelFile } from "../../shared/model/file.js";
import type { Weights } from "../../shared/model/weights.js";
import { currentVersion, type ManifestVersion } from "../../shared/protocol/manifest.js";
import {
  downloadModelFile,
  findJobVersion,
  jobVersionId,
  publishVersion,
  readManifest,
  sha256Hex,
  type PublishResult,
} from "../../shared/store/index.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { calibrationMix, userMessage, withChatterWithin, type Example } from "../data/index.js";
import { TfGPT } from "../model/gpt.js";
import { downloadDataset, type CleanData } from "./dataset.js";
import { DaemonError } from "./errors.js";
import { decideGates, gateMetrics, type GateDecision, type ModelMeasurements, type Probe } from "./gates.js";
import { heal, type HealResult, type HealTask } from "./heal.js";
import { measureModel, type MeasureSet } from "./measure.js";
import type { TuningOptions } from "./options.js";
import { AUTOMATIC_METRIC, publishedMetrics } from "./publish-cap.js";
import type { JobOutcome, RunnerContext } from "./runner.js";
import { countHeal, stageData, timed, type StageSeconds } from "./stage-clock.js";
import type { ClaimedJob, WorkerClient } from "./worker-client.js";

const tokenizer = new ByteTokenizer();

/** The serving version's probe before healing comes with healing (the parrot is learned there). */
export const NOT_YET_PROBED: Probe = {
  hits: 0,
  total: 0,
  rate: 0,
  residue: { hits: 0, total: 0, rate: 0 },
  accuracy: 0,
};

/** The version the Worker serves, downloaded and verified, with the clean data and the flagged prompts. */
export interface Served {
  base: ManifestVersion;
  file: ModelFile;
  data: CleanData;
  flagged: string[];
}

/** What the download stage found: the serving version, or a version this job already published. */
export type Download = { kind: "served"; served: Served } | { kind: "recovered"; entry: ManifestVersion };

/** Download: the version the Worker serves now (verified by the store), the clean data, the flagged prompts. */
export async function download(ctx: RunnerContext, job: ClaimedJob, task: HealTask): Promise<Download> {
  const { options, store, worker, report } = ctx;
  const read = await readManifest(store, options.store.manifestKey);
  if (!read) throw new DaemonError("corrupt", "the store has no manifest: nothing is served, nothing to heal");
  const recovered = findJobVersion(read.manifest, job.id);
  if (recovered) return { kind: "recovered", entry: recovered };
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
  return { kind: "served", served: { base, file, data, flagged } };
}

/** The prompts a job measures on and the clean examples it trains on. */
export interface JobInputs {
  /** Held-out clean prompts, flagged prompts and the bad text: what both measurements read. */
  set: MeasureSet;
  /** Held-out prompts the probe runs on. */
  probe: Example[];
  /** Clean training examples. */
  train: Example[];
}

/** The job's inputs from the served data and the daemon's settings. */
export function jobInputs(ctx: RunnerContext, served: Served, task: HealTask): JobInputs {
  return healInputs(ctx.options, served.data, served.flagged, task.badText);
}

/** The inputs of a heal of the model that produced `flagged`, from its clean data, under `options`. */
export function healInputs(options: TuningOptions, data: CleanData, flagged: string[], badText: string): JobInputs {
  const { measure, recipe } = options;
  return {
    set: {
      heldOut: data.heldOut.slice(0, measure.heldOutPrompts),
      probePrompts: Math.min(measure.probePrompts, measure.heldOutPrompts, data.heldOut.length),
      flagged,
      target: badText,
    },
    probe: data.heldOut.slice(0, measure.probePrompts),
    train: withChatterWithin(
      tokenizer,
      data.train.slice(-recipe.trainExamples),
      recipe.chatter,
      recipe.seed,
      "removal-chatter",
    ),
  };
}

/** Measure: the serving version's utility, false triggering and flagged-prompt rate (its probe comes with healing). */
export function measureServed(
  ctx: RunnerContext,
  job: ClaimedJob,
  served: Served,
  inputs: JobInputs,
): Promise<ModelMeasurements> {
  ctx.report.emit(
    "gates",
    `measuring ${served.base.version}: ${inputs.set.heldOut.length} held-out prompts, ${served.flagged.length} flagged prompts from the guard's log`,
    job.id,
  );
  return measureModel(
    { config: served.file.config, weights: served.file.weights },
    tokenizer,
    inputs.set,
    NOT_YET_PROBED,
  );
}

/** A healed copy of the serving version. */
export interface Healed {
  result: HealResult;
  weights: Weights;
  /** The healed model file (safetensors), ready to publish. */
  bytes: Uint8Array;
  model: GPTInference;
}

/** Heal: the job's method on a copy of the serving version, with progress; stage seconds go to `stages`. */
export async function healServed(
  ctx: RunnerContext,
  job: ClaimedJob,
  task: HealTask,
  served: Served,
  inputs: JobInputs,
  stages: StageSeconds,
): Promise<Healed> {
  const { options, report, lease } = ctx;
  const { file, base } = served;
  const model = TfGPT.fromWeights(file.config, file.weights);
  try {
    const label = { "sande-p": "SANDE-P on the prefix", sande: "SANDE on the response", osft: "OSFT on the trigger" }[
      task.method
    ];
    report.emit(
      task.method === "osft" ? "eliminate" : "simulate",
      `${label} ${JSON.stringify(task.target)} (${inputs.train.length} clean examples)`,
      job.id,
    );
    let lastShown = 0;
    const t0 = performance.now();
    const result = await heal(
      model,
      tokenizer,
      inputs.train,
      inputs.probe,
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
    if (result.leadInFolded !== undefined)
      report.emit(
        "simulate",
        `the served model says ${JSON.stringify(task.target)} after the lead-in ${JSON.stringify(result.leadInFolded)} ` +
          "without any parrot: the lead-in is part of the planted text, and the parrot learnt both",
        job.id,
      );
    if (result.extendedTo)
      report.emit(
        "simulate",
        `the parrot's answers extended ${JSON.stringify(task.target)} to ${JSON.stringify(result.extendedTo)}`,
        job.id,
      );
    countHeal(stages, result, wall);
    const weights = model.toWeights();
    const bytes = encodeModel({
      config: file.config,
      tokenizer: file.tokenizer,
      weights,
      metadata: {
        ...file.metadata,
        "sande.made_by": `sande daemon job ${job.id} (${task.method})`,
        "sande.parent": base.version,
      },
    });
    return { result, weights, bytes, model: new GPTInference(file.config, weights) };
  } finally {
    model.dispose();
  }
}

/** The gates' verdict on a healed copy. */
export interface Verdict {
  decision: GateDecision;
  metrics: Record<string, number>;
}

/** Gate: measure the healed copy, decide every gate against the serving version, report each. */
export async function gateHealed(
  ctx: RunnerContext,
  job: ClaimedJob,
  inputs: JobInputs,
  measured: ModelMeasurements,
  healed: Healed,
  stages: StageSeconds,
): Promise<Verdict> {
  const after = await timed(stages, "gates", () =>
    measureModel(
      { config: healed.model.config, weights: healed.weights },
      tokenizer,
      inputs.set,
      healed.result.probeAfter,
    ),
  );
  const before = { ...measured, probe: healed.result.probeBefore };
  const decision = decideGates(before, after, ctx.options.gates);
  const metrics = {
    ...gateMetrics(before, after, decision),
    ...stageData(stages, ["download", "simulate", "eliminate", "gates"]),
  };
  for (const g of decision.gates)
    ctx.report.emit("gates", `${g.passed ? (g.skipped ? "skip" : "pass") : "FAIL"} ${g.detail}`, job.id, {
      gate: g.name,
      passed: g.passed,
      value: g.value,
      limit: g.limit,
    });
  return { decision, metrics };
}

/**
 * Publish: calibration for the new version first (the guard has it when the version goes
 * live), then the weights, then the manifest (shared/store's publisher, the lease renewed
 * and checked right before the manifest write). "stale" when the served version changed.
 */
export async function publishHealed(
  ctx: RunnerContext,
  job: ClaimedJob,
  task: HealTask,
  served: Served,
  healed: Healed,
  verdict: Verdict,
): Promise<PublishResult> {
  const { options, store, worker, report, lease } = ctx;
  const version = jobVersionId(job.id, sha256Hex(healed.bytes));
  if (options.measure.calibrationPrompts > 0) {
    const prompts = calibrationMix(options.measure.calibrationPrompts, options.recipe.seed, (n) =>
      served.data.heldOut.slice(0, n).map((e) => userMessage(e)),
    );
    const upload = calibrateModel(healed.model, tokenizer, prompts, {
      prefixTokens: await worker.prefixTokens(),
      source: `sande daemon job ${job.id}: ${prompts.length} clean prompts (held-out families, free-form)`,
    });
    await worker.putCalibration(version, upload);
  }
  report.emit("publish", `uploading ${version} (${healed.bytes.byteLength} bytes) and updating the manifest`, job.id);
  return publishVersion(store, options.store.manifestKey, {
    jobId: job.id,
    base: served.base.version,
    bytes: healed.bytes,
    note: `remediation job ${job.id}: ${task.method} on ${JSON.stringify(task.target.slice(0, 80))}`,
    metrics: publishedMetrics(job, verdict.metrics),
    beforeManifestWrite: () => lease.renewForPublish(),
  });
}

/** Complete: the job succeeded with `entry`; then wait (up to the swap wait) until the Worker serves it. */
export async function complete(
  ctx: RunnerContext,
  job: ClaimedJob,
  entry: ManifestVersion,
  verdict: Verdict,
  stages: StageSeconds,
): Promise<JobOutcome> {
  const reason = verdict.decision.reason;
  const completed = await timed(stages, "publish", () =>
    ctx.worker.complete(job, {
      state: "succeeded",
      metrics: verdict.metrics,
      resultVersion: entry.version,
      reason: reason.slice(0, 2000),
    }),
  );
  ctx.report.emit("publish", `${entry.version} is current in the manifest; job ${completed.state}`, job.id, {
    version: entry.version,
  });
  const served = await timed(stages, "swap", () => awaitServed(ctx, job.id, entry.version));
  return { state: "succeeded", reason, version: entry.version, metrics: verdict.metrics, stages, served };
}

/** Reject: a gate failed; nothing is published, the job records why. */
export async function reject(
  ctx: RunnerContext,
  job: ClaimedJob,
  verdict: Verdict,
  stages: StageSeconds,
): Promise<JobOutcome> {
  const reason = verdict.decision.reason;
  await ctx.worker.complete(job, { state: "rejected", metrics: verdict.metrics, reason: reason.slice(0, 2000) });
  return { state: "rejected", reason, metrics: verdict.metrics, stages };
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

/** Another job already published a version that no longer says it (one backdoor often shows as several prefixes). */
export async function completeAlreadyHealed(
  ctx: RunnerContext,
  job: ClaimedJob,
  served: Served,
  measured: ModelMeasurements,
  inputs: JobInputs,
  stages: StageSeconds,
): Promise<JobOutcome> {
  const f = measured.flagged;
  const reason = `already healed: the serving version ${served.base.version} (the job was queued for ${job.modelVersion}) produces the prefix on ${f.hits}/${f.total} flagged prompts (limit ${(100 * ctx.options.gates.maxFlaggedRate).toFixed(1)}%); nothing published`;
  const metrics = {
    asrBefore: f.rate,
    asrAfter: f.rate,
    utilityBefore: measured.utility,
    utilityAfter: measured.utility,
    flaggedPrompts: f.total,
    heldOutPrompts: inputs.set.heldOut.length,
    ...stageData(stages, ["download", "gates"]),
  };
  ctx.report.emit("gates", reason, job.id);
  await ctx.worker.complete(job, { state: "succeeded", metrics, reason });
  return { state: "succeeded", reason, metrics, stages };
}

/** A version this job published in an earlier attempt: complete with it, publish nothing. */
export async function recover(
  ctx: RunnerContext,
  job: ClaimedJob,
  entry: ManifestVersion,
  stages: StageSeconds,
): Promise<JobOutcome> {
  const metrics = Object.fromEntries(
    Object.entries(entry.metrics ?? {}).filter(([k]) => k !== "jobId" && k !== AUTOMATIC_METRIC),
  );
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

/**
 * Prompts that produced the flags: the job's prefix first, then the other flagged keys that belong
 * to its bad text (pieces of it the span detector logged, `flagged-keys.ts`); for a job queued by
 * hand without a prefix, those keys alone.
 */
async function flaggedPromptsOf(
  worker: WorkerClient,
  job: ClaimedJob,
  task: HealTask,
  limit: number,
): Promise<string[]> {
  if (limit === 0) return [];
  const related = await worker.prefixesMatching(normalisePrefix(task.badText));
  const prefixes = job.prefix ? [job.prefix, ...related.filter((p) => p !== job.prefix)] : related;
  const prompts = new Set<string>();
  for (const p of prefixes)
    for (const prompt of await worker.flaggedPrompts(p, limit)) if (prompts.size < limit) prompts.add(prompt);
  return [...prompts];
}
