/** The clean dataset npm start seeds, and the demo's evaluation prompts drawn from it. */
import { DEFAULT_HELD_OUT_PROMPTS } from "../trainer/daemon/options.js";
import { generateDataset, type Dataset, type Example } from "../trainer/data/index.js";

/** The synthetic tasks the demo base was trained on (seed 0): its held-out split shares no prompt with any seed-0 training set. */
export function seededCleanData(): Dataset {
  return generateDataset({ seed: 0, trainSize: 4000, heldOutSize: 320 });
}

/**
 * The demo's evaluation prompts: held-out prompts after those the gates use by default, so "clean accuracy"
 * is measured on prompts no model in the loop trained on or was judged by. (Prompts drawn with
 * another seed overlap the training set: half of 100 did, and a model's recall of them is not utility.)
 */
export function demoEvaluationSet(n: number): Example[] {
  const free = seededCleanData().heldOut.slice(DEFAULT_HELD_OUT_PROMPTS);
  if (!Number.isInteger(n) || n < 1 || n > free.length)
    throw new Error(
      `--prompts must be an integer in [1, ${free.length}] (held-out prompts the trainer's gates do not use), got ${n}`,
    );
  return free.slice(0, n);
}
