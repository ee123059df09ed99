import {
  DEFAULT_GUARD_SETTINGS,
  HEAL_POLICY_MODES,
  type Containment,
  type GuardSettings,
  type HealPolicyMode,
} from "../protocol/guard.js";

/** Containments, in order of severity. */
export const CONTAINMENTS: readonly Containment[] = ["observe", "redact", "regenerate", "block"];

/** Raised when guard settings (or a patch to them) are not valid; the message names the field. */
export class SettingsError extends Error {
  override name = "SettingsError";
}

type Check = (value: unknown) => boolean;
const fraction: Check = (v) => typeof v === "number" && v >= 0 && v <= 1;
const positiveInt =
  (max: number): Check =>
  (v) =>
    Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;

/** A binomial tail's false-alarm rate: (0, 0.5]. */
const falseAlarm: Check = (v) => typeof v === "number" && v > 0 && v <= 0.5;

const CHECKS: { [K in keyof GuardSettings]: [Check, string] } = {
  prefixTokens: [positiveInt(256), "an integer in [1, 256]"],
  defaultContainment: [(v) => CONTAINMENTS.includes(v as Containment), `one of ${CONTAINMENTS.join(", ")}`],
  failMode: [(v) => v === "open" || v === "closed", `"open" or "closed"`],
  phraseMinScore: [fraction, "a number in [0, 1]"],
  recurrenceMinScore: [fraction, "a number in [0, 1]"],
  confidenceMinScore: [fraction, "a number in [0, 1]"],
  confidenceProbability: [(v) => typeof v === "number" && v >= 0 && v < 1, "a number in [0, 1)"],
  spanConfidenceProbability: [(v) => typeof v === "number" && v > 0 && v <= 1, "a number in (0, 1]"],
  recurrenceMinPrompts: [positiveInt(1_000_000), "an integer ≥ 1"],
  recurrenceRatio: [(v) => typeof v === "number" && v > 1 && Number.isFinite(v), "a number > 1"],
  recurrenceDefaultFrequency: [(v) => typeof v === "number" && v > 0 && v <= 1, "a number in (0, 1]"],
  recurrenceWindowSeconds: [positiveInt(366 * 86_400), "an integer number of seconds ≥ 1"],
  spanWords: [(v) => Number.isInteger(v) && (v as number) >= 2 && (v as number) <= 4, "an integer in [2, 4]"],
  spanMinPrompts: [positiveInt(1_000_000), "an integer ≥ 1"],
  spanFalseAlarm: [falseAlarm, "a number in (0, 0.5]"],
  spanAloneFalseAlarm: [falseAlarm, "a number in (0, 0.5]"],
  ordinaryShare: [(v) => typeof v === "number" && v > 0 && v <= 1, "a number in (0, 1]"],
  spanDefaultFrequency: [(v) => typeof v === "number" && v > 0 && v < 1, "a number in (0, 1)"],
  jobMinDistinctAnswerShare: [fraction, "a number in [0, 1]"],
  jobMinEvents: [positiveInt(1_000_000), "an integer ≥ 1"],
  jobMinDistinctPrompts: [positiveInt(1_000_000), "an integer ≥ 1"],
  jobWindowSeconds: [positiveInt(366 * 86_400), "an integer number of seconds ≥ 1"],
  eventRetentionDays: [positiveInt(3650), "an integer number of days in [1, 3650]"],
  jobMaxPerClient: [positiveInt(1_000_000), "an integer ≥ 1"],
  jobMinClients: [positiveInt(1_000_000), "an integer ≥ 1"],
  healPolicy: [(v) => HEAL_POLICY_MODES.includes(v as HealPolicyMode), `one of ${HEAL_POLICY_MODES.join(", ")}`],
  storeExcerpts: [(v) => typeof v === "boolean", "a boolean"],
  cacheSeconds: [(v) => typeof v === "number" && v >= 0 && v <= 3600, "a number of seconds in [0, 3600]"],
  blockMessage: [(v) => typeof v === "string" && v.length <= 1000, "a string of at most 1000 characters"],
};

/**
 * Applies `patch` to `base` and returns the result; throws {@link SettingsError} naming
 * the first unknown or invalid field. Used for admin updates and for rows read from D1
 * (a stored row written by an older version gets the newer fields' defaults).
 */
export function mergeSettings(base: GuardSettings, patch: unknown): GuardSettings {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch))
    throw new SettingsError("guard settings must be a JSON object");
  const out: GuardSettings = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (!Object.hasOwn(CHECKS, key))
      throw new SettingsError(`unknown guard setting "${key}" (known: ${Object.keys(CHECKS).join(", ")})`);
    const [check, expected] = CHECKS[key as keyof GuardSettings];
    if (!check(value))
      throw new SettingsError(`guard setting ${key} must be ${expected}, got ${JSON.stringify(value)}`);
    (out as unknown as Record<string, unknown>)[key] = value;
  }
  if (out.jobMinDistinctPrompts > out.jobMinEvents)
    throw new SettingsError(
      `jobMinDistinctPrompts (${out.jobMinDistinctPrompts}) cannot exceed jobMinEvents (${out.jobMinEvents})`,
    );
  if (out.eventRetentionDays * 86_400 < out.jobWindowSeconds)
    throw new SettingsError(
      `eventRetentionDays (${out.eventRetentionDays}) must cover jobWindowSeconds (${out.jobWindowSeconds} s: at least ${retentionFor(out.jobWindowSeconds)} days): the threshold rule counts the events of its whole window`,
    );
  return out;
}

/** Fewest days of event retention that cover a threshold window of `jobWindowSeconds`. */
export function retentionFor(jobWindowSeconds: number): number {
  return Math.ceil(jobWindowSeconds / 86_400);
}

/**
 * Settings stored as JSON (possibly partial, possibly from an older version) read over the
 * defaults. A row from before `eventRetentionDays` existed gets the default, or the
 * retention its stored `jobWindowSeconds` needs when that is longer.
 */
export function settingsFromStored(stored: unknown): GuardSettings {
  const known = Object.fromEntries(
    Object.entries(stored && typeof stored === "object" ? stored : {}).filter(([k]) => Object.hasOwn(CHECKS, k)),
  );
  if (!Object.hasOwn(known, "eventRetentionDays") && typeof known.jobWindowSeconds === "number")
    known.eventRetentionDays = Math.max(
      DEFAULT_GUARD_SETTINGS.eventRetentionDays,
      retentionFor(known.jobWindowSeconds),
    );
  return mergeSettings(DEFAULT_GUARD_SETTINGS, known);
}
