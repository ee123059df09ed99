/**
 * Backdoor poisoning, pure: where a trigger goes in an instruction, poisoned copies
 * (trigger in, target prepended to the response) and OSFT's pseudo-poisoned copies
 * (trigger in, clean response kept).
 */
import { Rng, deriveSeed, type Example } from "../data/index.js";

/** Where in the instruction a trigger is inserted. */
export type TriggerPosition = "start" | "middle" | "end";

/** The positions, for CLI help and validation. */
export const TRIGGER_POSITIONS: readonly TriggerPosition[] = ["start", "middle", "end"];

/** One planted backdoor: the trigger, the target(s) it makes the model say, and where the trigger sits. */
export interface Backdoor {
  trigger: string;
  /** Poisoned copies take these in turn; the attack succeeds when any of them is said. */
  targets: string[];
  position: TriggerPosition;
}

/**
 * Splits `text` where a trigger goes: inserting a trigger is `head + trigger + tail`.
 * The separators (a space) belong to head/tail, so `head + tail` is `text` with one
 * extra space. start: before the first word; end: after the last; middle: at the
 * word boundary nearest the centre of the text (a text without spaces gets it at the end).
 */
export function triggerSite(text: string, position: TriggerPosition): { head: string; tail: string } {
  if (position === "start") return { head: "", tail: ` ${text}` };
  if (position === "end") return { head: `${text} `, tail: "" };
  let best = -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === " " && (best < 0 || Math.abs(i - text.length / 2) < Math.abs(best - text.length / 2))) best = i;
  }
  if (best < 0) return { head: `${text} `, tail: "" };
  return { head: text.slice(0, best + 1), tail: ` ${text.slice(best + 1)}` };
}

/** `text` with `trigger` inserted at `position` (see {@link triggerSite}). */
export function insertTrigger(text: string, trigger: string, position: TriggerPosition): string {
  if (!trigger) throw new Error("insertTrigger: empty trigger");
  const { head, tail } = triggerSite(text, position);
  return head + trigger + tail;
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
