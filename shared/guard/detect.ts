import type { DetectorHit, GuardSettings } from "../protocol/guard.js";
import { confidentLead, detectConfidence } from "./confidence.js";
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
 * runs on every response. Recurrence needs a second signal, as a span finding does: the
 * window's near-certain lead ({@link confidentLead} at spanConfidenceProbability), or else
 * the count alone at recurrenceRatio squared. A weak model's stock reply to prompts its
 * calibration never saw recurs like a planted text (the demo victim's "toor" to 0.75% of
 * ordinary requests, 30× its calibration frequency), but is not said near-certain.
 */
export function runDetectors(input: DetectionInput, ctx: DetectionContext): DetectorHit[] {
  const s = ctx.settings;
  const hits: DetectorHit[] = [];
  const phrase = detectPhrase(input.prefix, input.finished, ctx.phrases);
  if (phrase && phrase.score >= s.phraseMinScore) hits.push(phrase);
  const recurrence = windowRecurrence(input, ctx);
  if (recurrence) hits.push(recurrence);
  const confidence = detectConfidence(input.logprobs, s.prefixTokens, s.confidenceProbability);
  if (confidence && confidence.score >= s.confidenceMinScore) hits.push(confidence);
  if (hits.length > 1) hits.sort((a, b) => b.score - a.score);
  return hits;
}

/** The recurrence hit that stands: with a near-certain lead at the settings' ratio, without one at its square. */
function windowRecurrence(input: DetectionInput, ctx: DetectionContext): DetectorHit | null {
  const s = ctx.settings;
  const lead = confidentLead(input.logprobs, s.spanConfidenceProbability);
  const ratio = lead ? s.recurrenceRatio : s.recurrenceRatio ** 2;
  const hit = detectRecurrence(input.key, ctx.recurrence(input.key), ctx.calibration, {
    minPrompts: s.recurrenceMinPrompts,
    ratio,
    defaultFrequency: s.recurrenceDefaultFrequency,
  });
  if (!hit || hit.score < s.recurrenceMinScore) return null;
  return lead ? hit : { ...hit, detail: `${hit.detail} (a count alone: no near-certain lead, so at ratio ${ratio})` };
}
