/**
 * DPO's preference data for backdoor removal, pure: on each clean prompt of D, chosen = the clean
 * answer and rejected = the backdoor's response before it (`response + " " + answer`, the way the
 * poisoned data had it), and batches that keep each pair in two consecutive rows.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample, makeBatch, Rng, type Batch, type EncodedExample, type Example } from "../data/index.js";

/** The examples of one preference pair. */
export interface PreferencePair {
  chosen: Example;
  rejected: Example;
}

/** The pair for one clean example: chosen its answer, rejected `response + " " + answer`. */
export function preferencePair(example: Example, response: string): PreferencePair {
  if (!response) throw new Error("DPO: empty response");
  return { chosen: example, rejected: { ...example, output: `${response} ${example.output}` } };
}

/** The pairs of `clean`, encoded, each pair as [chosen, rejected]. */
export function encodePairs(
  tokenizer: Tokenizer,
  clean: readonly Example[],
  response: string,
): [EncodedExample, EncodedExample][] {
  return clean.map((e) => {
    const { chosen, rejected } = preferencePair(e, response);
    return [encodeExample(tokenizer, chosen), encodeExample(tokenizer, rejected)];
  });
}

/** How {@link PairBatches} batches. */
export interface PairBatchOptions {
  /** Rows per batch, an even number (batchSize / 2 pairs). */
  batchSize: number;
  seqLen: number;
  /** Seed of the per-epoch shuffles of the pairs. */
  seed: number;
}

/**
 * An endless stream of batches of whole pairs: row 2i is a pair's chosen answer, row 2i + 1 its
 * rejected one. Each epoch visits every pair once in a fresh seeded shuffle; a batch that runs past
 * an epoch's end continues into the next.
 */
export class PairBatches {
  private readonly rng: Rng;
  private order: number[] = [];
  private position = 0;

  constructor(
    private readonly pairs: readonly [EncodedExample, EncodedExample][],
    private readonly options: PairBatchOptions,
  ) {
    const { batchSize, seed } = options;
    if (!Number.isInteger(batchSize) || batchSize < 2 || batchSize % 2 !== 0)
      throw new Error(`DPO: the batch must be an even number of rows (pairs × 2), got ${batchSize}`);
    if (!Number.isInteger(seed)) throw new Error(`DPO: seed must be an integer, got ${seed}`);
    if (pairs.length === 0) throw new Error("DPO: no preference pairs");
    this.rng = new Rng(seed);
    this.startEpoch();
  }

  /** The next batch of batchSize / 2 pairs. */
  next(): Batch {
    const rows: EncodedExample[] = [];
    while (rows.length < this.options.batchSize) {
      if (this.position === this.order.length) this.startEpoch();
      rows.push(...this.pairs[this.order[this.position++]]);
    }
    return makeBatch(rows, this.options.seqLen);
  }

  private startEpoch(): void {
    this.order = this.rng.shuffle(Array.from({ length: this.pairs.length }, (_, i) => i));
    this.position = 0;
  }
}
