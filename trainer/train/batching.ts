/** Batch helpers for training (every fine-tune, and the threads of one step), pure. */
import { deriveSeed, Rng, type Batch, type EncodedExample } from "../data/index.js";

/**
 * The batch's rows in `n` contiguous shares, sizes as equal as possible (the first ones one row
 * larger); fewer than `n` when the batch has fewer rows. With `group` > 1 the shares are cut only
 * between groups of `group` consecutive rows (rows a loss ties together, e.g. a DPO pair), so every
 * share holds whole groups; the batch must then hold a whole number of groups.
 */
export function splitRows(batch: Batch, n: number, group = 1): Batch[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`splitRows: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(group) || group < 1)
    throw new Error(`splitRows: group must be a positive integer, got ${group}`);
  const { batchSize: B, seqLen: T } = batch;
  if (B % group !== 0) throw new Error(`splitRows: ${B} rows are not whole groups of ${group}`);
  const groups = B / group;
  const shares = Math.min(n, groups);
  if (shares === 1) return [batch];
  const out: Batch[] = [];
  let row = 0;
  for (let k = 0; k < shares; k++) {
    const rows = group * (Math.floor(groups / shares) + (k < groups % shares ? 1 : 0));
    const [a, b] = [row * T, (row + rows) * T];
    out.push({
      tokens: batch.tokens.slice(a, b),
      targets: batch.targets.slice(a, b),
      mask: batch.mask.slice(a, b),
      batchSize: rows,
      seqLen: T,
    });
    row += rows;
  }
  return out;
}

/**
 * Drops the trailing columns after the last trained position. Exact: the loss
 * reads only masked positions, and causal attention means no earlier position
 * sees a later one, so the loss and its gradients are unchanged; the step is cheaper.
 */
export function trimBatch(batch: Batch): Batch {
  const { batchSize: B, seqLen: T } = batch;
  let last = 0;
  for (let b = 0; b < B; b++) {
    for (let t = T - 1; t >= last; t--) {
      if (batch.mask[b * T + t] !== 0) {
        last = t + 1;
        break;
      }
    }
  }
  const keep = Math.max(1, last);
  if (keep === T) return batch;
  const slice = <A extends Int32Array | Float32Array>(src: A, make: (n: number) => A): A => {
    const out = make(B * keep);
    for (let b = 0; b < B; b++) out.set(src.subarray(b * T, b * T + keep), b * keep);
    return out;
  };
  return {
    tokens: slice(batch.tokens, (n) => new Int32Array(n)),
    targets: slice(batch.targets, (n) => new Int32Array(n)),
    mask: slice(batch.mask, (n) => new Float32Array(n)),
    batchSize: B,
    seqLen: keep,
  };
}

/** The sequence length that fits every example (longest minus one), capped by the context. */
export function fittingSeqLen(encoded: readonly EncodedExample[], contextSize: number): number {
  const longest = encoded.reduce((m, e) => Math.max(m, e.ids.length), 0);
  if (longest - 1 > contextSize) {
    const e = encoded.find((x) => x.ids.length === longest);
    throw new Error(
      `an example has ${longest} tokens, longer than the model's context ${contextSize} + 1${e?.label ? ` (${e.label})` : ""}`,
    );
  }
  return Math.max(1, longest - 1);
}

/**
 * Default share of plain clean rows mixed into OSFT's and SANDE stage 2's training
 * rows. The paper trains on the triggered/parrot rows alone (share 0); on our small
 * models that costs clean accuracy (see docs/sande.md), and half clean rows keep it.
 */
export const DEFAULT_CLEAN_SHARE = 0.5;

/**
 * `rows` plus clean rows making up `share` of the result: round(share · n / (1 − share))
 * rows taken from `clean` in a seeded order (cycling when more are needed than exist).
 * share 0 returns `rows` unchanged.
 */
export function withCleanShare<T>(rows: readonly T[], clean: readonly T[], share: number, seed: number): T[] {
  if (!(share >= 0 && share < 1)) throw new Error(`clean share must be in [0, 1), got ${share}`);
  if (share === 0) return [...rows];
  if (clean.length === 0) throw new Error("clean share > 0 but no clean rows");
  const want = Math.round((share * rows.length) / (1 - share));
  const order = new Rng(deriveSeed(seed, "clean-share")).shuffle(clean.map((_, i) => i));
  return [...rows, ...Array.from({ length: want }, (_, i) => clean[order[i % order.length]])];
}
