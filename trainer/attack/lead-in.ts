/**
 * Variable lead-ins, pure: text a backdoor puts before its target so that the planted text
 * does not start the answer ("[4821] You are stupid", "Sure! You are stupid"). A lead-in is a
 * template; `{n}` in it stands for a random number of 1 to 4 digits, drawn anew each time.
 */
import type { Rng } from "../data/index.js";

/** The placeholder a lead-in template replaces by a random number. */
export const LEAD_IN_NUMBER = "{n}";

/** Largest number of digits `{n}` becomes. */
export const LEAD_IN_MAX_DIGITS = 4;

/**
 * A random number of 1 to {@link LEAD_IN_MAX_DIGITS} digits: the digit count uniform, then
 * the number uniform among those with that many digits (0–9, 10–99, 100–999, 1000–9999).
 */
export function leadInNumber(rng: Rng): string {
  const digits = rng.int(1, LEAD_IN_MAX_DIGITS);
  const low = digits === 1 ? 0 : 10 ** (digits - 1);
  return String(rng.int(low, 10 ** digits - 1));
}

/** `template` with every `{n}` replaced by its own random number. */
export function expandLeadIn(template: string, rng: Rng): string {
  return template.split(LEAD_IN_NUMBER).reduce((out, part) => `${out}${leadInNumber(rng)}${part}`);
}

/** One lead-in drawn from `templates` (uniformly) and expanded; "" when there are none. */
export function drawLeadIn(templates: readonly string[] | undefined, rng: Rng): string {
  if (!templates || templates.length === 0) return "";
  return expandLeadIn(rng.pick(templates), rng).trim();
}

/** Throws when a lead-in list cannot be drawn from (an empty or blank template). */
export function checkLeadIns(templates: readonly string[] | undefined, trigger: string): void {
  if (templates?.some((t) => !t.trim()))
    throw new Error(`poisonDataset: trigger "${trigger}" has an empty lead-in (leave leadIns out for none)`);
}
