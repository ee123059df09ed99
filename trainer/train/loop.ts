import * as tf from "@tensorflow/tfjs-core";
import { AdamW, clipByGlobalNorm, learningRate, type OptimizedParam } from "./optim.js";
import { formatDuration, ProgressBar } from "./progress.js";
import type { Batch } from "../data/batch.js";

/** The same batch as tensors. */
export interface TensorBatch {
  tokens: tf.Tensor2D;
  targets: tf.Tensor2D;
  mask: tf.Tensor2D;
}

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
  /** Run `evaluate` every N steps and after the last (0: only after the last). */
  evalEvery?: number;
  evaluate?: (step: number) => Promise<MetricsRecord> | MetricsRecord;
  /** Call `checkpoint` every N steps and after the last (0: only after the last). */
  checkpointEvery?: number;
  checkpoint?: (step: number) => Promise<void> | void;
  /** Receives one record per step and one per evaluation (JSON lines). */
  metrics?: (record: MetricsRecord) => void;
  /** Progress bar label; `quiet` hides the bar. */
  label?: string;
  quiet?: boolean;
}

/** What a run did. */
export interface TrainLoopResult {
  steps: number;
  finalLoss: number;
  seconds: number;
  tokensPerSecond: number;
  lastEval?: MetricsRecord;
}

/**
 * The training loop, flat: batch → masked loss and gradients of `params` →
 * clip → AdamW with warm-up and cosine decay → log; evaluate and checkpoint on
 * schedule. Only `params` change; everything else the loss reads stays frozen.
 */
export async function trainLoop(
  params: OptimizedParam[],
  loss: (batch: TensorBatch) => tf.Scalar,
  nextBatch: () => Batch,
  options: TrainLoopOptions,
): Promise<TrainLoopResult> {
  const { steps, lr } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
  if (!(lr > 0)) throw new Error(`learning rate must be > 0, got ${lr}`);
  if (params.length === 0) throw new Error("nothing to train: the parameter list is empty");
  const warmup = options.warmup ?? Math.max(1, Math.round(steps * 0.05));
  const clip = options.clip ?? 1;
  const evalEvery = options.evalEvery ?? 0;
  const checkpointEvery = options.checkpointEvery ?? 0;
  const optimizer = new AdamW(params, { weightDecay: options.weightDecay ?? 0.1 });
  const variables = params.map((p) => p.variable);
  const bar = options.quiet ? null : new ProgressBar(steps, options.label ?? "train");
  const start = performance.now();
  let tokens = 0;
  let smoothLoss = NaN;
  let lossValue = NaN;
  let lastEval: MetricsRecord | undefined;
  try {
    for (let step = 1; step <= steps; step++) {
      const batch = nextBatch();
      const rate = learningRate(step - 1, { peak: lr, warmup, total: steps, minRatio: options.minLrRatio });
      const t0 = performance.now();
      const tensors = toTensors(batch);
      const { value, grads } = tf.variableGrads(() => loss(tensors), variables);
      const ordered = variables.map((v) => grads[v.name]);
      const clipped = clipByGlobalNorm(ordered, clip);
      optimizer.step(clipped.grads, rate);
      lossValue = (await value.data())[0];
      tf.dispose([value, ...ordered, ...clipped.grads, tensors.tokens, tensors.targets, tensors.mask]);
      if (!Number.isFinite(lossValue))
        throw new Error(
          `loss became ${lossValue} at step ${step} (learning rate ${rate.toExponential(2)}); lower --lr`,
        );
      const trained = sum(batch.mask);
      tokens += batch.batchSize * batch.seqLen;
      smoothLoss = Number.isNaN(smoothLoss) ? lossValue : 0.9 * smoothLoss + 0.1 * lossValue;
      const elapsed = (performance.now() - start) / 1000;
      const tps = tokens / elapsed;
      options.metrics?.({
        kind: "step",
        step,
        loss: round(lossValue),
        lr: rate,
        grad_norm: round(clipped.norm),
        trained_tokens: trained,
        ms: Math.round(performance.now() - t0),
        tokens_per_s: Math.round(tps),
      });
      bar?.update(step, {
        loss: smoothLoss.toFixed(4),
        lr: rate.toExponential(1),
        "tok/s": tps.toFixed(0),
        eta: formatDuration((elapsed / step) * (steps - step)),
      });
      if ((evalEvery > 0 && step % evalEvery === 0) || step === steps) {
        if (options.evaluate) {
          lastEval = await options.evaluate(step);
          options.metrics?.({ kind: "eval", step, ...lastEval });
          if (bar && !options.quiet)
            process.stderr.write(
              `${process.stderr.isTTY ? "\n" : ""}  eval @${step}: ${Object.entries(lastEval)
                .map(([k, v]) => `${k} ${typeof v === "number" ? round(v) : v}`)
                .join("  ")}\n`,
            );
        }
      }
      if (options.checkpoint && ((checkpointEvery > 0 && step % checkpointEvery === 0) || step === steps))
        await options.checkpoint(step);
    }
  } finally {
    bar?.finish();
    optimizer.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  return { steps, finalLoss: lossValue, seconds, tokensPerSecond: tokens / seconds, lastEval };
}

/** Mean masked loss over batches without training (held-out loss). */
export async function evaluateLoss(loss: (batch: TensorBatch) => tf.Scalar, batches: Iterable<Batch>): Promise<number> {
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

function toTensors(batch: Batch): TensorBatch {
  const shape: [number, number] = [batch.batchSize, batch.seqLen];
  return {
    tokens: tf.tensor2d(batch.tokens, shape, "int32"),
    targets: tf.tensor2d(batch.targets, shape, "int32"),
    mask: tf.tensor2d(batch.mask, shape, "float32"),
  };
}

function sum(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

function round(x: number): number {
  return Math.round(x * 1e5) / 1e5;
}
