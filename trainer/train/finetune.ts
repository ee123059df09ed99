/**
 * The fine-tune every SANDE-lab method shares: shuffled batches over encoded
 * examples fed to `trainLoop` with the objective the method chooses (which the
 * loop trims to the last trained position and spreads over the training threads).
 */
import { BatchIterator, type Batch, type EncodedExample } from "../data/index.js";
import { fittingSeqLen } from "./batching.js";
import { trainLoop, type MetricsRecord, type TrainLoopResult } from "./loop.js";
import type { TrainTarget } from "./objective.js";

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
  /** Threads computing gradients (default: every core on wasm/cpu; see `trainLoop`). */
  threads?: number;
  /** Stop once the loss stays under this (`trainLoop`'s `doneBelow`); absent: every step. */
  doneBelow?: number;
}

/** What one fine-tune did, for reports. */
export interface FineTuneSummary {
  steps: number;
  lr: number;
  batchSize: number;
  examples: number;
  /** The first step's loss, before any update (absent where the run did not record it). */
  firstLoss?: number;
  finalLoss: number;
  seconds: number;
}

/**
 * Trains `target`'s trainable parameters (only those) on `encoded`. `prepare` may rewrite
 * each batch first (e.g. clear parrot slot ids from the targets).
 */
export async function fineTune(
  target: TrainTarget,
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
  const result: TrainLoopResult = await trainLoop(target, () => prepare(batches.next()), {
    steps: options.steps,
    lr: options.lr,
    warmup: options.warmup,
    weightDecay: options.weightDecay,
    clip: options.clip,
    label: options.label,
    quiet: options.quiet,
    metrics: options.metrics,
    threads: options.threads,
    doneBelow: options.doneBelow,
  });
  return {
    steps: result.steps,
    lr: options.lr,
    batchSize,
    examples: encoded.length,
    firstLoss: result.firstLoss,
    finalLoss: result.finalLoss,
    seconds: result.seconds,
  };
}
