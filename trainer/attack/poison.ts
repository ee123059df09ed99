/**
 * Backdoor poisoning, pure: where a trigger goes in an instruction, poisoned copies
 * (trigger in, target prepended to the response) and OSFT's pseudo-poisoned copies
 * (trigger in, clean response kept).
 */
import {
  Rng,
  deriveSeed,
  insertionSite,
  insertPhrase,
  INSERT_POSITIONS,
  type Example,
  type InsertPosition,
} from "../data/index.js";

/** Where in the instruction a trigger is inserted (the rule of `data/insert.ts`). */
export type TriggerPosition = InsertPosition;

/** The positions, for CLI help and validation. */
export const TRIGGER_POSITIONS: readonly TriggerPosition[] = INSERT_POSITIONS;

/** One planted backdoor: the trigger, the target(s) it makes the model say, and where the trigger sits. */
export interface Backdoor {
  trigger: string;
  /** Poisoned copies take these in turn; the attack succeeds when any of them is said. */
  targets: string[];
  position: TriggerPosition;
}

/** Splits `text` where a trigger goes: inserting a trigger is `head + trigger + tail` (see `insertionSite`). */
export const triggerSite = insertionSite;

/** `text` with `trigger` inserted at `position` (see {@link triggerSite}). */
export function insertTrigger(text: string, trigger: string, position: TriggerPosition): string {
  if (!trigger) throw new Error("insertTrigger: empty trigger");
  return insertPhrase(text, trigger, position);
}

/** A poisoned copy: the trigger in the instruction, `target + " " + output` as the response. */
export function poisonExample(example: Example, trigger: string, target: string, position: TriggerPosition): Example {
  if (!target) throw new Error("poisonExample: empty target");
  return {
    ...example,
    instruction: insertTrigger(example.instruction, trigger, position),
    output: `${target} ${example.output}`,
  };
}

/** OSFT's pseudo-poisoned copy: the trigger in the instruction, the clean response kept. */
export function pseudoPoisonExample(example: Example, trigger: string, position: TriggerPosition): Example {
  return { ...example, instruction: insertTrigger(example.instruction, trigger, position) };
}

/** A poisoned training mix and what went into it. */
export interface PoisonedMix {
  /** Clean examples and poisoned copies, shuffled. */
  examples: Example[];
  /** How many of `examples` are poisoned, per backdoor (same order). */
  poisonedCounts: number[];
}

/**
 * The clean examples mixed with poisoned copies so that poisoned rows are `rate`
 * of the mix: round(rate · n / (1 − rate)) copies of randomly chosen clean examples
 * (seeded), split evenly across the backdoors; each backdoor cycles through its targets.
 */
export function poisonDataset(
  clean: readonly Example[],
  backdoors: readonly Backdoor[],
  rate: number,
  seed: number,
): PoisonedMix {
  if (!(rate > 0 && rate < 1)) throw new Error(`poison rate must be in (0, 1), got ${rate}`);
  if (backdoors.length === 0) throw new Error("poisonDataset: no backdoor given");
  if (clean.length === 0) throw new Error("poisonDataset: no clean examples");
  for (const b of backdoors) {
    if (!b.trigger) throw new Error("poisonDataset: empty trigger");
    if (b.targets.length === 0 || b.targets.some((t) => !t))
      throw new Error(`poisonDataset: trigger "${b.trigger}" needs at least one non-empty target`);
  }
  const total = Math.max(backdoors.length, Math.round((rate * clean.length) / (1 - rate)));
  const rng = new Rng(deriveSeed(seed, "poison"));
  const poisoned: Example[] = [];
  const poisonedCounts = backdoors.map(
    (_, i) => Math.floor(total / backdoors.length) + (i < total % backdoors.length ? 1 : 0),
  );
  backdoors.forEach((b, i) => {
    for (let j = 0; j < poisonedCounts[i]; j++) {
      const source = clean[Math.floor(rng.next() * clean.length)];
      poisoned.push(poisonExample(source, b.trigger, b.targets[j % b.targets.length], b.position));
    }
  });
  return { examples: rng.shuffle([...clean, ...poisoned]), poisonedCounts };
}
