import type { DetectorHit, GuardSettings } from "../protocol/guard.js";
import { detectConfidence } from "./confidence.js";
import type { CompiledPhrases } from "./phrases.js";
import { detectPhrase } from "./phrases.js";
import { detectRecurrence, type Calibration, type RecurrenceCounts } from "./recurrence.js";

/** The held-back window, as the detectors see it. */
export interface DetectionInput {
  /** normalisePrefix() of the window's text (what the phrase detector reads). */
  prefix: string;
  /** prefixKey() of the window: what recurrence counts and calibration is looked up by. */
  key: string;
  /** Per-token log-probabilities of the window. */
  logprobs: readonly number[];
  /** The response ended inside the window. */
  finished: boolean;
}

/** What the detectors need besides the window: loaded once, reused for many responses. */
export interface DetectionContext {
  settings: GuardSettings;
  phrases: CompiledPhrases;
  calibration: Calibration | null;
  /** Live counts of the window's key, this response included. */
  recurrence(prefix: string): RecurrenceCounts;
}

/**
 * Runs the three detectors and returns the hits whose score reaches the detector's
 * threshold (settings *MinScore), highest score first. Pure and allocation-light: it
 * runs on every response.
 */
export function runDetectors(input: DetectionInput, ctx: DetectionContext): DetectorHit[] {
  const s = ctx.settings;
  const hits: DetectorHit[] = [];
  const phrase = detectPhrase(input.prefix, input.finished, ctx.phrases);
  if (phrase && phrase.score >= s.phraseMinScore) hits.push(phrase);
  const recurrence = detectRecurrence(input.key, ctx.recurrence(input.key), ctx.calibration, {
    minPrompts: s.recurrenceMinPrompts,
    ratio: s.recurrenceRatio,
    defaultFrequency: s.recurrenceDefaultFrequency,
  });
  if (recurrence && recurrence.score >= s.recurrenceMinScore) hits.push(recurrence);
  const confidence = detectConfidence(input.logprobs, s.prefixTokens, s.confidenceProbability);
  if (confidence && confidence.score >= s.confidenceMinScore) hits.push(confidence);
  if (hits.length > 1) hits.sort((a, b) => b.score - a.score);
  return hits;
}
