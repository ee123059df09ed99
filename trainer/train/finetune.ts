/**
 * The fine-tune every SANDE-lab method shares: shuffled batches over encoded
 * examples, trimmed to their last trained position, fed to `trainLoop` with the
 * parameters and loss the method chooses.
 */
import type * as tf from "@tensorflow/tfjs-core";
import { BatchIterator, type Batch, type EncodedExample } from "../data/index.js";
import { trainLoop, type MetricsRecord, type TensorBatch, type TrainLoopResult } from "./loop.js";
import type { OptimizedParam } from "./optim.js";
import { fittingSeqLen, trimBatch } from "./batching.js";

/** Optimiser and schedule of one fine-tune. */
export interface FineTuneOptions {
  steps: number;
  /** Peak learning rate (warm-up, then cosine decay to 10%). */
  lr: number;
  /** Rows per batch (default 16). */
  batchSize?: number;
  /** Seeds the batch order. */
  seed: number;
  warmup?: number;
  weightDecay?: number;
  clip?: number;
  /** Progress label; `quiet` hides the progress bar. */
  label?: string;
  quiet?: boolean;
  /** Receives the loop's JSON-lines records. */
  metrics?: (record: MetricsRecord) => void;
}

/** What one fine-tune did, for reports. */
export interface FineTuneSummary {
  steps: number;
  lr: number;
  batchSize: number;
  examples: number;
  finalLoss: number;
  seconds: number;
}

/**
 * Trains `params` (only those) on `encoded` with `loss`. `prepare` may rewrite each
 * batch before trimming (e.g. clear parrot slot ids from the targets).
 */
export async function fineTune(
  params: OptimizedParam[],
  loss: (batch: TensorBatch) => tf.Scalar,
  encoded: readonly EncodedExample[],
  contextSize: number,
  options: FineTuneOptions,
  prepare: (batch: Batch) => Batch = (b) => b,
): Promise<FineTuneSummary> {
  const batchSize = options.batchSize ?? 16;
  const batches = new BatchIterator(encoded, {
    batchSize,
    seqLen: fittingSeqLen(encoded, contextSize),
    seed: options.seed,
  });
  const result: TrainLoopResult = await trainLoop(params, loss, () => trimBatch(prepare(batches.next())), {
    steps: options.steps,
    lr: options.lr,
    warmup: options.warmup,
    weightDecay: options.weightDecay,
    clip: options.clip,
    label: options.label,
    quiet: options.quiet,
    metrics: options.metrics,
  });
  return {
    steps: result.steps,
    lr: options.lr,
    batchSize,
    examples: encoded.length,
    finalLoss: result.finalLoss,
    seconds: result.seconds,
  };
}
