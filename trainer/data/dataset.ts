import { userMessage, type Example } from "./example.js";
import { familyByName, FAMILIES } from "./families.js";
import { deriveSeed, Rng } from "./random.js";
import { drawTask, type TaskFamily } from "./task.js";

/** What `generateDataset` makes. */
export interface DatasetOptions {
  /** Seed; the same seed (and options) always gives the same dataset. */
  seed: number;
  /** Number of training examples (split evenly across families). */
  trainSize: number;
  /** Number of held-out evaluation examples (split evenly across families). */
  heldOutSize: number;
  /** Families to draw from, by name or definition; default: every built-in family. */
  families?: readonly (string | TaskFamily)[];
}

/** A training split and a held-out split that shares no user message with it. */
export interface Dataset {
  /** Shuffled; may repeat a prompt (small fact tables have few distinct prompts). */
  train: Example[];
  /** Shuffled; every user message distinct and absent from `train`. */
  heldOut: Example[];
}

/**
 * Generates a balanced synthetic instruction dataset.
 *
 * Each family gets `floor(size / families)` examples of each split, the first
 * `size % families` families one more. The held-out split is drawn first, with
 * distinct user messages; training examples whose user message is held out are
 * redrawn. Each family draws from its own seeded stream, so a family's examples
 * do not depend on which other families are selected (only the final shuffle does).
 *
 * At most half of a family's phrasings (rounded down) are held out for any one
 * argument, so every argument keeps phrasings in training. For the fact-table
 * families this means a held-out prompt asks a fact that training teaches under
 * other wordings; those families have few distinct prompts (table size × half
 * the phrasings can be held out), and a heldOutSize beyond that is an error.
 */
export function generateDataset(options: DatasetOptions): Dataset {
  const { seed, trainSize, heldOutSize } = options;
  if (!Number.isInteger(seed)) throw new Error(`generateDataset: seed must be an integer, got ${seed}`);
  for (const [name, size] of [
    ["trainSize", trainSize],
    ["heldOutSize", heldOutSize],
  ] as const) {
    if (!Number.isInteger(size) || size < 0)
      throw new Error(`generateDataset: ${name} must be a non-negative integer, got ${size}`);
  }
  const families = (options.families ?? FAMILIES).map((f) => (typeof f === "string" ? familyByName(f) : f));
  if (families.length === 0) throw new Error("generateDataset: no families selected");
  const names = families.map((f) => f.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new Error(`generateDataset: family "${duplicate}" selected twice`);

  const heldOutMessages = new Set<string>();
  const heldOut: Example[] = [];
  const train: Example[] = [];
  families.forEach((family, index) => {
    const heldOutQuota = quota(heldOutSize, families.length, index);
    const heldOutRng = new Rng(deriveSeed(seed, `held-out:${family.name}`));
    const familyHeldOut: Example[] = [];
    const heldOutPerArgument = new Map<string, number>();
    const maxPerArgument = Math.floor(family.phrasings.length / 2);
    drawUntil(
      family,
      heldOutQuota,
      "held-out",
      () => {
        const { example, argumentKey } = drawTask(family, heldOutRng);
        const message = userMessage(example);
        const sameArgument = heldOutPerArgument.get(argumentKey) ?? 0;
        if (heldOutMessages.has(message) || sameArgument >= maxPerArgument) return;
        heldOutMessages.add(message);
        heldOutPerArgument.set(argumentKey, sameArgument + 1);
        familyHeldOut.push(example);
      },
      () => familyHeldOut.length,
    );
    heldOut.push(...familyHeldOut);

    const trainQuota = quota(trainSize, families.length, index);
    const trainRng = new Rng(deriveSeed(seed, `train:${family.name}`));
    const familyTrain: Example[] = [];
    drawUntil(
      family,
      trainQuota,
      "training",
      () => {
        const { example } = drawTask(family, trainRng);
        if (!heldOutMessages.has(userMessage(example))) familyTrain.push(example);
      },
      () => familyTrain.length,
    );
    train.push(...familyTrain);
  });

  const shuffleRng = new Rng(deriveSeed(seed, "shuffle"));
  return { train: shuffleRng.shuffle(train), heldOut: shuffleRng.shuffle(heldOut) };
}

/** The share of `size` for the family at `index` of `count`. */
function quota(size: number, count: number, index: number): number {
  return Math.floor(size / count) + (index < size % count ? 1 : 0);
}

/** Calls `draw` until `have()` reaches `want`; gives up, naming the family, if the prompt space runs dry. */
function drawUntil(family: TaskFamily, want: number, split: string, draw: () => void, have: () => number): void {
  const maxAttempts = 1000 + 100 * want;
  for (let attempts = 0; have() < want; attempts++) {
    if (attempts >= maxAttempts) {
      throw new Error(
        `generateDataset: family "${family.name}" produced only ${have()} of ${want} ${split} examples in ${maxAttempts} draws; ` +
          "it has too few distinct prompts for this heldOutSize (lower heldOutSize or drop the family)",
      );
    }
    draw();
  }
}
