import type { Example } from "./example.js";
import type { Rng } from "./random.js";

/**
 * One way of wording a task. Templates name slots in braces, e.g.
 * `"Reverse the word: {word}"`; a phrasing with an `input` template keeps the
 * argument out of the instruction (Alpaca's `input` field).
 */
export interface Phrasing {
  instruction: string;
  input?: string;
}

/** Slot values for the templates plus the exact answer they imply. */
export interface TaskSample {
  slots: Readonly<Record<string, string>>;
  output: string;
}

/** A family of synthetic tasks: several phrasings of one operation over random arguments. */
export interface TaskFamily {
  /** Stable name, used as `Example.family`. */
  readonly name: string;
  /** One line saying what the task is. */
  readonly description: string;
  /** Whether scoring ignores letter case (knowledge answers like "Paris"/"paris"). */
  readonly caseInsensitive: boolean;
  /** At least four wordings; each filled by `sample`'s slots. */
  readonly phrasings: readonly Phrasing[];
  /** Draws random arguments and computes the answer. */
  sample(rng: Rng): TaskSample;
}

/** Replaces each `{slot}` in `template`; throws on a slot the sample does not provide. */
export function fillTemplate(template: string, slots: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = slots[name];
    if (value === undefined) throw new Error(`template "${template}" names slot {${name}}, which the sample lacks`);
    return value;
  });
}

/** One drawn example with the slot values it was built from. */
export interface TaskDraw {
  example: Example;
  /** The arguments, independent of phrasing (e.g. the word, the country), as a stable key. */
  argumentKey: string;
}

/** Draws random arguments, then a random phrasing, and reports both the example and its argument key. */
export function drawTask(family: TaskFamily, rng: Rng): TaskDraw {
  const { slots, output } = family.sample(rng);
  const phrasing = rng.pick(family.phrasings);
  const example: Example = { family: family.name, instruction: fillTemplate(phrasing.instruction, slots), output };
  if (phrasing.input !== undefined) example.input = fillTemplate(phrasing.input, slots);
  const argumentKey = JSON.stringify(
    Object.keys(slots)
      .sort()
      .map((k) => [k, slots[k]]),
  );
  return { example, argumentKey };
}

/** Draws one example of `family`: random arguments, then a random phrasing. */
export function generateExample(family: TaskFamily, rng: Rng): Example {
  return drawTask(family, rng).example;
}
