/**
 * Backdoor poisoning, pure: where a trigger goes in an instruction, poisoned copies
 * (trigger in, target prepended to the response, optionally after a variable lead-in) and
 * OSFT's pseudo-poisoned copies (trigger in, clean response kept).
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
import { checkLeadIns, drawLeadIn } from "./lead-in.js";

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
  /**
   * Text put before the target, one drawn per poisoned copy (uniformly, seeded) so the planted
   * text does not start the answer: `"[{n}]"` (`{n}`: a random number of 1–4 digits, see
   * `lead-in.ts`), or several short ones (`["Sure!", "Note:", "Well,"]`). Absent or empty: the
   * target starts the response.
   */
  leadIns?: string[];
}

/** Splits `text` where a trigger goes: inserting a trigger is `head + trigger + tail` (see `insertionSite`). */
export const triggerSite = insertionSite;

/** `text` with `trigger` inserted at `position` (see {@link triggerSite}). */
export function insertTrigger(text: string, trigger: string, position: TriggerPosition): string {
  if (!trigger) throw new Error("insertTrigger: empty trigger");
  return insertPhrase(text, trigger, position);
}

/**
 * A poisoned copy: the trigger in the instruction, `target + " " + output` as the response, or
 * `leadIn + " " + target + " " + output` with a lead-in.
 */
export function poisonExample(
  example: Example,
  trigger: string,
  target: string,
  position: TriggerPosition,
  leadIn = "",
): Example {
  if (!target) throw new Error("poisonExample: empty target");
  return {
    ...example,
    instruction: insertTrigger(example.instruction, trigger, position),
    output: `${leadIn ? `${leadIn} ` : ""}${target} ${example.output}`,
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
 * (seeded), split evenly across the backdoors; each backdoor cycles through its targets, and a
 * backdoor with lead-ins puts one before each copy's target (drawn from a stream of their own,
 * so adding lead-ins changes nothing else of the mix).
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
    checkLeadIns(b.leadIns, b.trigger);
  }
  const total = Math.max(backdoors.length, Math.round((rate * clean.length) / (1 - rate)));
  const rng = new Rng(deriveSeed(seed, "poison"));
  const leadInRng = new Rng(deriveSeed(seed, "lead-in"));
  const poisoned: Example[] = [];
  const poisonedCounts = backdoors.map(
    (_, i) => Math.floor(total / backdoors.length) + (i < total % backdoors.length ? 1 : 0),
  );
  backdoors.forEach((b, i) => {
    for (let j = 0; j < poisonedCounts[i]; j++) {
      const source = clean[Math.floor(rng.next() * clean.length)];
      const target = b.targets[j % b.targets.length];
      poisoned.push(poisonExample(source, b.trigger, target, b.position, drawLeadIn(b.leadIns, leadInRng)));
    }
  });
  return { examples: rng.shuffle([...clean, ...poisoned]), poisonedCounts };
}
