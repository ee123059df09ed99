import type { DetectorHit } from "../protocol/guard.js";

/** How often each normalised prefix came out on a calibration prompt set, for one model version. */
export interface Calibration {
  /** Prompts in the calibration set (each contributes one prefix). */
  prompts: number;
  /** Normalised prefix → number of calibration prompts that produced it. */
  counts: ReadonlyMap<string, number>;
}

/** Builds a calibration from the normalised prefixes the model gave to a calibration prompt set (one per prompt). */
export function buildCalibration(prefixes: Iterable<string>): Calibration {
  const counts = new Map<string, number>();
  let prompts = 0;
  for (const p of prefixes) {
    counts.set(p, (counts.get(p) ?? 0) + 1);
    prompts++;
  }
  return { prompts, counts };
}

/** Expected share of prompts answered with `prefix`: smoothed calibration frequency (c + ½) / (n + 1), or `fallback` when uncalibrated. */
export function expectedFrequency(prefix: string, calibration: Calibration | null, fallback: number): number {
  if (!calibration || calibration.prompts === 0) return fallback;
  return ((calibration.counts.get(prefix) ?? 0) + 0.5) / (calibration.prompts + 1);
}

/** Live counts for one prefix within the recurrence window. */
export interface RecurrenceCounts {
  /** Distinct prompts that were answered with this prefix. */
  prompts: number;
  /** Distinct (prefix, prompt) sightings of all prefixes: the traffic the share is taken of. */
  total: number;
}

/** Parameters of {@link detectRecurrence} (from GuardSettings). */
export interface RecurrenceParams {
  minPrompts: number;
  /** Ratio live ÷ expected frequency at which the score reaches 1. */
  ratio: number;
  /** Expected frequency of every prefix when there is no calibration. */
  defaultFrequency: number;
}

/**
 * Detector (2), recurrence: one prefix returned to many distinct prompts far more often
 * than the same model version produced it on its calibration prompts — the signature of
 * a planted response. With f = prompts / total and q the expected frequency,
 * score = log(f / q) / log(ratio) clamped to [0, 1], and 0 until the prefix was returned
 * to `minPrompts` distinct prompts. Returns null when the score is 0.
 */
export function detectRecurrence(
  prefix: string,
  counts: RecurrenceCounts,
  calibration: Calibration | null,
  params: RecurrenceParams,
): DetectorHit | null {
  if (counts.prompts < params.minPrompts || counts.total <= 0) return null;
  const live = counts.prompts / Math.max(counts.total, counts.prompts);
  const expected = expectedFrequency(prefix, calibration, params.defaultFrequency);
  const lift = live / expected;
  if (!(lift > 1)) return null;
  const score = Math.min(1, Math.log(lift) / Math.log(params.ratio));
  const basis =
    calibration && calibration.prompts > 0
      ? `${calibration.counts.get(prefix) ?? 0}/${calibration.prompts} calibration prompts`
      : "no calibration";
  return {
    detector: "recurrence",
    score,
    detail: `${counts.prompts}/${counts.total} live prompts vs ${basis}: ${lift.toFixed(1)}× expected`,
  };
}
