/**
 * The policy per finding: a flagged text that reached the threshold rule is healed
 * automatically only when the evidence is strong; otherwise its job waits for an operator
 * (state "awaiting_approval"). One definition, {@link AUTO_HEAL_WHEN}, is read both by
 * {@link healPolicy} (TypeScript) and by the threshold rule's SQL (worker/db/finding-sql.ts),
 * so the two cannot disagree.
 */
import type { DetectorHit, DetectorName } from "../protocol/guard.js";

/** A kind of evidence a finding can carry. */
export type EvidenceSignal = "phrase" | "statistic" | "confidence";

/**
 * What a finding's events showed, over the threshold rule's window: each signal is true
 * when at least one event of the finding carried it.
 */
export type FindingEvidence = Readonly<Record<EvidenceSignal, boolean>>;

/** What becomes of a finding's job: trained and published without a person, or held for one. */
export type HealPolicy = "auto" | "operator";

/**
 * Which detectors give each signal. An operator's phrase rule is the operator's own word;
 * the statistic is the traffic count against the calibration ("recurrence"); confidence is
 * the locked run of near-certain tokens. The span detector may add its names here.
 */
export const SIGNAL_DETECTORS: Readonly<Record<EvidenceSignal, readonly DetectorName[]>> = {
  phrase: ["phrase"],
  statistic: ["recurrence", "span"],
  confidence: ["confidence"],
};

/**
 * Heal automatically when any one of these conjunctions holds: an operator phrase rule
 * matched, or the statistic and the confidence signal both fired. A count alone (what a
 * flood of nonce-varied prompts drawing one ordinary answer produces) asks an operator.
 */
export const AUTO_HEAL_WHEN: readonly (readonly EvidenceSignal[])[] = [["phrase"], ["statistic", "confidence"]];

/** "auto" when the evidence meets one of {@link AUTO_HEAL_WHEN}, else "operator". */
export function healPolicy(evidence: FindingEvidence): HealPolicy {
  return AUTO_HEAL_WHEN.some((all) => all.every((signal) => evidence[signal])) ? "auto" : "operator";
}

/** The evidence of a finding from its events' detector hits. */
export function evidenceOf(events: readonly (readonly DetectorHit[])[]): FindingEvidence {
  const has = (signal: EvidenceSignal) =>
    events.some((hits) => hits.some((h) => SIGNAL_DETECTORS[signal].includes(h.detector)));
  return { phrase: has("phrase"), statistic: has("statistic"), confidence: has("confidence") };
}
