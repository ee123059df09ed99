import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import type { EncodedExample } from "./encode.js";
import { Rng } from "./random.js";

/** The byte tokenizer's endoftext id, the default padding. */
export const DEFAULT_PAD_ID = new ByteTokenizer().special.endOfText;

/**
 * A training batch, row-major [batchSize, seqLen]: `targets[b,t]` is the token
 * after `tokens[b,t]`, and `mask[b,t]` is 1 exactly when `targets[b,t]` is a
 * response token. Padding (after an example ends) is the pad id with mask 0.
 */
export interface Batch {
  tokens: Int32Array;
  targets: Int32Array;
  mask: Float32Array;
  batchSize: number;
  seqLen: number;
}

/**
 * Lays encoded examples out as one batch, one example per row. An example may
 * hold at most seqLen + 1 tokens (inputs are its first seqLen, targets its
 * last seqLen); a longer one is an error naming it, never truncated.
 */
export function makeBatch(encoded: readonly EncodedExample[], seqLen: number, padId: number = DEFAULT_PAD_ID): Batch {
  if (!Number.isInteger(seqLen) || seqLen < 1)
    throw new Error(`makeBatch: seqLen must be a positive integer, got ${seqLen}`);
  if (encoded.length === 0) throw new Error("makeBatch: no examples");
  encoded.forEach((example, index) => checkFits(example, index, seqLen));
  const batchSize = encoded.length;
  const tokens = new Int32Array(batchSize * seqLen).fill(padId);
  const targets = new Int32Array(batchSize * seqLen).fill(padId);
  const mask = new Float32Array(batchSize * seqLen);
  encoded.forEach(({ ids, lossMask }, b) => {
    const row = b * seqLen;
    for (let t = 0; t < Math.min(ids.length, seqLen); t++) tokens[row + t] = ids[t];
    for (let t = 0; t + 1 < ids.length; t++) {
      targets[row + t] = ids[t + 1];
      mask[row + t] = lossMask[t + 1];
    }
  });
  return { tokens, targets, mask, batchSize, seqLen };
}

/** Throws, naming the example, if it cannot be trained on with this seqLen. */
function checkFits(example: EncodedExample, index: number, seqLen: number): void {
  const name = `example ${index}${example.label ? ` (${example.label})` : ""}`;
  if (example.ids.length !== example.lossMask.length) {
    throw new Error(
      `makeBatch: ${name} has ${example.ids.length} ids but ${example.lossMask.length} loss-mask entries`,
    );
  }
  if (example.ids.length < 2)
    throw new Error(`makeBatch: ${name} has ${example.ids.length} tokens; at least 2 are needed for one target`);
  if (example.ids.length > seqLen + 1) {
    throw new Error(
      `makeBatch: ${name} has ${example.ids.length} tokens, more than seqLen + 1 = ${seqLen + 1}; shorten it or raise seqLen`,
    );
  }
}

/** How a `BatchIterator` batches. */
export interface BatchIteratorOptions {
  batchSize: number;
  seqLen: number;
  /** Seed of the per-epoch shuffles. */
  seed: number;
  padId?: number;
}

/**
 * An endless stream of full batches over a dataset. Each epoch visits every
 * example once in a fresh seeded shuffle; a batch that runs past the end of an
 * epoch continues into the next one, so no example is dropped and every batch
 * has exactly `batchSize` rows. Every example is checked against seqLen up front.
 */
export class BatchIterator implements Iterable<Batch> {
  private readonly rng: Rng;
  private order: number[] = [];
  private position = 0;
  private completedEpochs = -1;

  constructor(
    private readonly encoded: readonly EncodedExample[],
    private readonly options: BatchIteratorOptions,
  ) {
    const { batchSize, seqLen, seed } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`BatchIterator: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(seqLen) || seqLen < 1)
      throw new Error(`BatchIterator: seqLen must be a positive integer, got ${seqLen}`);
    if (!Number.isInteger(seed)) throw new Error(`BatchIterator: seed must be an integer, got ${seed}`);
    if (encoded.length === 0) throw new Error("BatchIterator: no examples");
    encoded.forEach((example, index) => checkFits(example, index, seqLen));
    this.rng = new Rng(seed);
    this.startEpoch();
  }

  /** Epochs fully consumed so far (0 during the first pass). */
  get epoch(): number {
    return this.completedEpochs;
  }

  /** The next batch of `batchSize` examples. */
  next(): Batch {
    const rows: EncodedExample[] = [];
    while (rows.length < this.options.batchSize) {
      if (this.position === this.order.length) this.startEpoch();
      rows.push(this.encoded[this.order[this.position++]]);
    }
    return makeBatch(rows, this.options.seqLen, this.options.padId);
  }

  /** Endless: use with `break` or a counter. */
  *[Symbol.iterator](): Iterator<Batch> {
    for (;;) yield this.next();
  }

  private startEpoch(): void {
    this.order = this.rng.shuffle(Array.from({ length: this.encoded.length }, (_, i) => i));
    this.position = 0;
    this.completedEpochs++;
  }
}
