import { hammingDistance, type PromptKey, type Simhash } from "./prompt-key.js";

/** Most bits two prompts' simhashes may differ in to count as one prompt. */
export const NEAR_DUPLICATE_BITS = 3;

interface Entry {
  hash: string;
  simhash: Simhash;
}

/**
 * Recently seen prompts, bounded (least recently used forgotten first): maps a prompt
 * within {@link NEAR_DUPLICATE_BITS} of a remembered one to that one's hash, so
 * near-duplicates are counted as one prompt. Lookups probe four 16-bit bands (two
 * simhashes within 3 bits agree on at least one band), not every entry.
 */
export class NearDuplicates {
  private readonly entries = new Map<string, Entry>(); // insertion order = recency
  private readonly bands: Map<number, Set<Entry>>[] = [new Map(), new Map(), new Map(), new Map()];

  constructor(private readonly capacity = 2048) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`NearDuplicates: capacity must be an integer ≥ 1, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The hash this prompt counts under: its own, or a remembered near-duplicate's. Remembers the prompt. */
  canonical(key: Pick<PromptKey, "hash" | "simhash">): string {
    const same = this.entries.get(key.hash) ?? this.nearest(key.simhash);
    const entry = same ?? { hash: key.hash, simhash: key.simhash };
    this.touch(entry);
    return entry.hash;
  }

  private nearest(simhash: Simhash): Entry | undefined {
    let best: Entry | undefined;
    let bestBits = NEAR_DUPLICATE_BITS + 1;
    for (let b = 0; b < 4; b++) {
      for (const e of this.bands[b].get(band(simhash, b)) ?? []) {
        const bits = hammingDistance(simhash, e.simhash);
        if (bits < bestBits) [best, bestBits] = [e, bits];
      }
    }
    return best;
  }

  private touch(entry: Entry): void {
    if (this.entries.delete(entry.hash)) {
      this.entries.set(entry.hash, entry);
      return;
    }
    this.entries.set(entry.hash, entry);
    for (let b = 0; b < 4; b++) {
      const value = band(entry.simhash, b);
      let set = this.bands[b].get(value);
      if (!set) this.bands[b].set(value, (set = new Set()));
      set.add(entry);
    }
    if (this.entries.size > this.capacity) this.forget(this.entries.values().next().value as Entry);
  }

  private forget(entry: Entry): void {
    this.entries.delete(entry.hash);
    for (let b = 0; b < 4; b++) {
      const value = band(entry.simhash, b);
      const set = this.bands[b].get(value);
      set?.delete(entry);
      if (set?.size === 0) this.bands[b].delete(value);
    }
  }
}

function band(simhash: Simhash, b: number): number {
  const half = simhash[b >> 1];
  return b & 1 ? half & 0xffff : half >>> 16;
}
