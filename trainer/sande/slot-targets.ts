/** Keeping parrot slot ids out of a batch's targets, pure. */
import type { Batch } from "../data/index.js";

/**
 * Replaces targets outside the vocabulary (parrot slot ids, which makeBatch copies
 * into the targets of the position before a slot) by `padId`. Those positions are
 * never trained on; this only keeps every target a valid class for the loss.
 */
export function clearSlotTargets(batch: Batch, vocabSize: number, padId: number): Batch {
  const targets = batch.targets.map((id) => (id >= vocabSize ? padId : id));
  for (let i = 0; i < targets.length; i++) {
    if (batch.targets[i] >= vocabSize && batch.mask[i] !== 0)
      throw new Error("a parrot slot is a training target; the loss mask is wrong");
  }
  return { ...batch, targets };
}
