import * as tf from "@tensorflow/tfjs-core";
import type { Batch } from "../data/batch.js";
import { assignValues, readValues, toTensors, type ShardResult, type TrainTarget } from "./objective.js";
import { AdamW, clipByGlobalNorm, learningRate } from "./optim.js";
import { formatDuration, ProgressBar } from "./progress.js";
import { splitRows, trimBatch } from "./batching.js";
import { unpack } from "./shard-protocol.js";
import { defaultThreads, trainingThreads, type TrainingThread } from "./threads.js";

export { toTensors, type TensorBatch } from "./objective.js";

/** One line of the metrics log. */
export type MetricsRecord = Record<string, string | number | boolean>;

/** Options of one training run. */
export interface TrainLoopOptions {
  steps: number;
  /** Peak learning rate. */
  lr: number;
  /** Warm-up steps (default 5% of steps). */
  warmup?: number;
  /** Final learning rate as a share of the peak (default 0.1). */
  minLrRatio?: number;
  weightDecay?: number;
  /** Max global gradient norm; 0 disables clipping (default 1). */
  clip?: number;
  /**
   * Threads that compute gradients, each on its share of every batch's rows (default: every core
   * on wasm/cpu when the target has a worker recipe, else 1). 1 runs in this thread only.
   */
  threads?: number;
  /** Run `evaluate` every N steps and after the last (0: only after the last). */
  evalEvery?: number;
  evaluate?: (step: number) => Promise<MetricsRecord> | MetricsRecord;
  /** Stop early when this says so after an evaluation (e.g. the probe says the job is done). */
  shouldStop?: (record: MetricsRecord, step: number) => boolean;
  /**
   * Stop once the step loss has been below this for {@link DONE_STEPS} steps in a row: the objective
   * is met (e.g. a parrot that already makes the model say its text). Absent or 0: run every step.
   */
  doneBelow?: number;
  /** Call `checkpoint` every N steps and after the last (0: only after the last). */
  checkpointEvery?: number;
  checkpoint?: (step: number) => Promise<void> | void;
  /** Receives one record per step and one per evaluation (JSON lines). */
  metrics?: (record: MetricsRecord) => void;
  /** Progress bar label; `quiet` hides the bar. */
  label?: string;
  quiet?: boolean;
}

/** Steps in a row with the loss under `doneBelow` that end a run. */
export const DONE_STEPS = 3;

/** What a run did. */
export interface TrainLoopResult {
  /** Steps taken (fewer than asked when `shouldStop` or `doneBelow` ended the run). */
  steps: number;
  /** The first step's loss, before any update (for a zero-initialised parrot: the model without one). */
  firstLoss: number;
  finalLoss: number;
  seconds: number;
  tokensPerSecond: number;
  /** Threads that computed gradients. */
  threads: number;
  lastEval?: MetricsRecord;
}

/**
 * The training loop, flat: batch → its rows split across threads → masked loss and gradients in
 * each → combined by weight → clip → AdamW with warm-up and cosine decay → the new values loaded
 * into every thread → log; evaluate and checkpoint on schedule. Only the target's trainable
 * parameters change. One thread or several give the same result up to float summation order.
 */
export async function trainLoop(
  target: TrainTarget,
  nextBatch: () => Batch,
  options: TrainLoopOptions,
): Promise<TrainLoopResult> {
  const { steps, lr } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
  if (!(lr > 0)) throw new Error(`learning rate must be > 0, got ${lr}`);
  const params = target.local.params;
  if (params.length === 0) throw new Error("nothing to train: the parameter list is empty");
  const warmup = options.warmup ?? Math.max(1, Math.round(steps * 0.05));
  const evalEvery = options.evalEvery ?? 0;
  const checkpointEvery = options.checkpointEvery ?? 0;
  const sizes = params.map((p) => p.variable.size);
  const shared = new SharedArrayBuffer(sizes.reduce((s, n) => s + n, 0) * 4);
  const values = unpack(new Float32Array(shared), sizes); // the master copy, read by the worker threads
  readValues(target.local).forEach((v, i) => values[i].set(v));
  const optimizer = new AdamW(
    sizes,
    params.map((p) => p.decay),
    { weightDecay: options.weightDecay ?? 0.1 },
  );
  const threads = await startThreads(target, options.threads, sizes, shared);
  const bar = options.quiet ? null : new ProgressBar(steps, options.label ?? "train");
  const start = performance.now();
  let tokens = 0;
  let smoothLoss = NaN;
  let lossValue = NaN;
  let firstLoss = NaN;
  let lastEval: MetricsRecord | undefined;
  let step = 0;
  let doneFor = 0; // steps in a row under options.doneBelow
  try {
    while (step < steps) {
      step++;
      const batch = nextBatch();
      const rate = learningRate(step - 1, { peak: lr, warmup, total: steps, minRatio: options.minLrRatio });
      const t0 = performance.now();
      const { loss, weight, grads } = await gradients(target, threads, batch);
      lossValue = loss;
      if (step === 1) firstLoss = loss;
      if (!Number.isFinite(lossValue))
        throw new Error(
          `loss became ${lossValue} at step ${step} (learning rate ${rate.toExponential(2)}); lower --lr`,
        );
      const norm = clipByGlobalNorm(grads, options.clip ?? 1);
      optimizer.step(values, grads, rate);
      assignValues(target.local, values);
      tokens += batch.batchSize * batch.seqLen;
      smoothLoss = Number.isNaN(smoothLoss) ? lossValue : 0.9 * smoothLoss + 0.1 * lossValue;
      const elapsed = (performance.now() - start) / 1000;
      const tps = tokens / elapsed;
      options.metrics?.({
        kind: "step",
        step,
        loss: round(lossValue),
        lr: rate,
        grad_norm: round(norm),
        trained_tokens: weight,
        ms: Math.round(performance.now() - t0),
        tokens_per_s: Math.round(tps),
      });
      bar?.update(step, {
        loss: smoothLoss.toFixed(4),
        lr: rate.toExponential(1),
        "tok/s": tps.toFixed(0),
        eta: formatDuration((elapsed / step) * (steps - step)),
      });
      doneFor = options.doneBelow && lossValue < options.doneBelow ? doneFor + 1 : 0;
      let stop = doneFor >= DONE_STEPS;
      if (options.evaluate && ((evalEvery > 0 && step % evalEvery === 0) || step === steps || stop)) {
        lastEval = await options.evaluate(step);
        options.metrics?.({ kind: "eval", step, ...lastEval });
        if (bar)
          process.stderr.write(`${process.stderr.isTTY ? "\n" : ""}  eval @${step}: ${formatRecord(lastEval)}\n`);
        stop ||= options.shouldStop?.(lastEval, step) ?? false;
      }
      if (options.checkpoint && ((checkpointEvery > 0 && step % checkpointEvery === 0) || step === steps || stop))
        await options.checkpoint(step);
      if (stop) break;
    }
  } finally {
    bar?.finish();
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    steps: step,
    firstLoss,
    finalLoss: lossValue,
    seconds,
    tokensPerSecond: tokens / seconds,
    threads: 1 + threads.length,
    lastEval,
  };
}

/** Worker threads for this run (besides this one), with the target's objective built in each. */
export async function startThreads(
  target: TrainTarget,
  requested: number | undefined,
  sizes: number[],
  shared: SharedArrayBuffer,
): Promise<TrainingThread[]> {
  const n = requested ?? (target.remote ? defaultThreads(tf.getBackend()) : 1);
  if (!Number.isInteger(n) || n < 1) throw new Error(`threads must be a positive integer, got ${n}`);
  if (n === 1) return [];
  if (!target.remote) throw new Error(`${n} threads asked for, but this objective has no recipe for worker threads`);
  const threads = trainingThreads(n - 1);
  await Promise.all(threads.map((t) => t.init(target.remote!, tf.getBackend(), sizes, shared)));
  return threads;
}

/**
 * The batch's loss and gradients: rows split across this thread and `threads`, each share's
 * gradients weighted by its share of the batch's weight. The workers load the current values first.
 */
export async function gradients(target: TrainTarget, threads: TrainingThread[], batch: Batch): Promise<ShardResult> {
  const shards = splitRows(batch, 1 + threads.length, target.rowGroup ?? 1).map(trimBatch);
  // Start the workers first, then compute this thread's share while they run.
  const pending = threads.slice(0, shards.length - 1).map((t, i) => t.step(shards[i + 1], true));
  const parts: ShardResult[] = [target.local.compute(shards[0])];
  const replies = await Promise.all(pending);
  const sizes = parts[0].grads.map((g) => g.length);
  replies.forEach((r, i) => parts.push({ ...r, grads: unpack(threads[i].grads, sizes) }));
  return combine(parts);
}

/** Σ_k w_k·x_k / Σ_k w_k over the shards' losses and gradients (one shard: its own, exactly). */
function combine(parts: ShardResult[]): ShardResult {
  const counted = parts.filter((p) => p.weight > 0);
  if (counted.length <= 1) {
    const only = counted[0] ?? parts[0];
    return { ...only, weight: only.weight, grads: only.grads.map((g) => new Float32Array(g)) };
  }
  const weight = counted.reduce((s, p) => s + p.weight, 0);
  const grads = counted[0].grads.map((g) => new Float32Array(g.length));
  let loss = 0;
  for (const p of counted) {
    const w = p.weight / weight;
    loss += w * p.loss;
    p.grads.forEach((g, i) => {
      const out = grads[i];
      for (let j = 0; j < g.length; j++) out[j] += w * g[j];
    });
  }
  return { loss, weight, grads };
}

/** Mean masked loss over batches without training (held-out loss). */
export async function evaluateLoss(
  loss: (batch: ReturnType<typeof toTensors>) => tf.Scalar,
  batches: Iterable<Batch>,
): Promise<number> {
  let total = 0;
  let weight = 0;
  for (const batch of batches) {
    const w = sum(batch.mask);
    if (w === 0) continue;
    const tensors = toTensors(batch);
    const value = tf.tidy(() => loss(tensors));
    total += (await value.data())[0] * w;
    weight += w;
    tf.dispose([value, tensors.tokens, tensors.targets, tensors.mask]);
  }
  if (weight === 0) throw new Error("held-out loss: no trained tokens in the evaluation batches");
  return total / weight;
}

function formatRecord(record: MetricsRecord): string {
  return Object.entries(record)
    .map(([k, v]) => `${k} ${typeof v === "number" ? round(v) : v}`)
    .join("  ");
}

function sum(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

function round(x: number): number {
  return Math.round(x * 1e5) / 1e5;
}
