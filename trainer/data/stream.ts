/**
 * Batches from an endless stream of examples, grouped by length: each round draws `pool` batches'
 * worth of rows, sorts them by length, cuts them into batches and serves those in a shuffled order.
 * A batch is as long as its longest row, so short rows are not padded to the longest in the data.
 */
import { makeBatch, type Batch } from "./batch.js";
import type { EncodedExample } from "./encode.js";
import { Rng } from "./random.js";

/** How `LengthBucketedBatches` batches. */
export interface BucketOptions {
  batchSize: number;
  /** The longest row allowed (the model's context): a longer one is an error naming it. */
  maxSeqLen: number;
  /** Batches drawn per round (default 32). */
  pool?: number;
  /** Seeds the order batches are served in. */
  seed: number;
}

/** Length-bucketed batches over `draw()`, which returns the next example each call. */
export class LengthBucketedBatches {
  private readonly ready: Batch[] = [];
  private readonly rng: Rng;

  constructor(
    private readonly draw: () => EncodedExample,
    private readonly options: BucketOptions,
  ) {
    const { batchSize, maxSeqLen, seed } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`LengthBucketedBatches: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(maxSeqLen) || maxSeqLen < 1)
      throw new Error(`LengthBucketedBatches: maxSeqLen must be a positive integer, got ${maxSeqLen}`);
    this.rng = new Rng(seed);
  }

  /** The next batch. */
  next(): Batch {
    if (this.ready.length === 0) this.fill();
    return this.ready.pop()!;
  }

  private fill(): void {
    const { batchSize, maxSeqLen } = this.options;
    const rows = Array.from({ length: batchSize * (this.options.pool ?? 32) }, () => this.draw());
    for (const row of rows) {
      if (row.ids.length > maxSeqLen + 1)
        throw new Error(
          `an example has ${row.ids.length} tokens, more than ${maxSeqLen + 1}: ${row.label ?? "(unlabelled)"}`,
        );
    }
    rows.sort((a, b) => a.ids.length - b.ids.length);
    const batches: Batch[] = [];
    for (let i = 0; i < rows.length; i += batchSize) {
      const chunk = rows.slice(i, i + batchSize);
      batches.push(makeBatch(chunk, Math.max(1, chunk[chunk.length - 1].ids.length - 1)));
    }
    this.ready.push(...this.rng.shuffle(batches));
  }
}

/**
 * An endless draw over `examples`: each epoch in a fresh seeded order, each example passed through
 * `transform` (e.g. chatter and encoding) as it is drawn, so every epoch sees new variants.
 */
export function epochDraw<T, U>(examples: readonly T[], seed: number, transform: (example: T, rng: Rng) => U): () => U {
  if (examples.length === 0) throw new Error("epochDraw: no examples");
  const rng = new Rng(seed);
  let order: number[] = [];
  let at = 0;
  return () => {
    if (at === order.length) {
      order = rng.shuffle(examples.map((_, i) => i));
      at = 0;
    }
    return transform(examples[order[at++]], rng);
  };
}
