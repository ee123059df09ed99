/** What the guard does with a response whose prefix is flagged. */
export type Containment = "observe" | "redact" | "regenerate" | "block";

/** Lifecycle of a flagged prefix. */
export type PrefixState = "new" | "confirmed" | "ignored" | "remediating" | "remediated";

/** Names of the guard's detectors, as logged. */
export type DetectorName = "phrase" | "recurrence" | "confidence" | "span";

/** One detector's verdict on a response prefix. */
export interface DetectorHit {
  detector: DetectorName;
  /** 0..1, higher = more suspicious. */
  score: number;
  /** Human-readable reason, e.g. the phrase list entry that matched. */
  detail: string;
}

/** A flag raised on one response, as logged to D1. */
export interface GuardEvent {
  /** Normalised prefix (lowercase, collapsed whitespace, first K tokens' text). */
  prefix: string;
  hits: DetectorHit[];
  /** Max of the hits' scores (0 when the event was raised by the prefix's state alone, with no hits). */
  score: number;
  /** sha256 hex of the prompt text (the prompt itself is never stored). */
  promptHash: string;
  /** Optional short excerpt of the prompt, when settings allow storing it. */
  excerpt?: string;
  modelVersion: string;
  requestId: string;
  /** sha256 hex of the client id (API key id, else CF-Connecting-IP, else "anonymous"); absent when serving gave none. */
  clientHash?: string;
  /** What the guard did. */
  action: Containment;
  /** ms since epoch. */
  at: number;
  /** sha256 hex of the normalised whole answer, when the guard saw it (the threshold rule counts distinct answers). */
  answerHash?: string;
}

/**
 * What the threshold rule does with a finding: "evidence" applies the heal policy
 * (shared/guard/policy.ts: strong evidence is healed automatically, the rest waits for an
 * operator), "automatic" queues every finding for a trainer, "operator" holds every one.
 */
export type HealPolicyMode = "evidence" | "automatic" | "operator";

/** The heal policy modes, for validation and the dashboard. */
export const HEAL_POLICY_MODES: readonly HealPolicyMode[] = ["evidence", "automatic", "operator"];

/** Thresholds and switches of the guard, stored in D1 and editable through the admin API. */
export interface GuardSettings {
  /** Tokens of every response held back and inspected before release. */
  prefixTokens: number;
  /** Containment for prefixes flagged but not yet confirmed. */
  defaultContainment: Containment;
  /** When D1 cannot be read: "open" serves unguarded-by-state (detectors still run), "closed" refuses. */
  failMode: "open" | "closed";
  /** Detector thresholds: a hit counts when its score reaches this. */
  phraseMinScore: number;
  recurrenceMinScore: number;
  confidenceMinScore: number;
  /**
   * Geometric-mean token probability of the prefix at which the confidence score starts to
   * rise above 0; it reaches 1 at probability 1 over a full window (shorter answers score less).
   */
  confidenceProbability: number;
  /**
   * Span findings: the geometric-mean probability of the flagged run's own tokens, wherever it
   * sits in the answer, at or above which the finding carries a confidence hit (the
   * position-free confidence signal of the heal policy). Also the bar of a window's near-certain
   * lead, without which a recurrence hit is a count alone (held to recurrenceRatio squared).
   */
  spanConfidenceProbability: number;
  /** Recurrence: fewest distinct prompts a prefix must be returned to before it can score. */
  recurrenceMinPrompts: number;
  /**
   * Recurrence: live frequency ÷ calibration frequency at which the score reaches 1 (score = log ratio ÷ log this);
   * its square for a window without a near-certain lead (spanConfidenceProbability).
   */
  recurrenceRatio: number;
  /** Recurrence: the frequency assumed for every prefix of a model version that has no calibration set. */
  recurrenceDefaultFrequency: number;
  /** Recurrence: live traffic counts cover this many seconds. */
  recurrenceWindowSeconds: number;
  /** Spans: words per span key (whole-word shingles over the whole answer), 2..4. */
  spanWords: number;
  /** Spans: fewest distinct prompts whose answers carry a span before the count test can flag it. */
  spanMinPrompts: number;
  /**
   * Spans: the binomial tail P(K ≥ k | n, p_s) at or below which a span is flagged. A false-alarm
   * rate per span and per check: clean traffic flags a given span with at most this chance each time
   * it is tested (every answer carrying it tests it), so the rate over all spans and checks is larger.
   */
  spanFalseAlarm: number;
  /**
   * Spans: the tail a finding needs when its own tokens are not near-certain (no confidence hit at
   * spanConfidenceProbability). Two signals, or the count test alone at a far smaller false-alarm
   * rate (default 1e-12, spanFalseAlarm squared): a weak model's stock fragment on prompts its
   * calibration never saw recurs like a planted text at 1% of traffic, but is not said near-certain.
   */
  spanAloneFalseAlarm: number;
  /** Spans: a span in at least this share of the version's calibration answers is ordinary, never flagged by statistics. */
  ordinaryShare: number;
  /** Spans: p_s of every span when the version has no calibration (conservative: high). */
  spanDefaultFrequency: number;
  /** Threshold rule: N events from M distinct prompts within W seconds creates a remediation job. */
  jobMinEvents: number;
  jobMinDistinctPrompts: number;
  /** Threshold rule: of those distinct prompts, at least this share must have got distinct answers. */
  jobMinDistinctAnswerShare: number;
  jobWindowSeconds: number;
  /**
   * Days a flagged event (`guard_events`) is kept; older ones are deleted by the guard's
   * periodic prune, and a prefix's event and prompt counts then cover the events kept.
   * Must cover `jobWindowSeconds`, so the threshold rule always counts whole windows.
   */
  eventRetentionDays: number;
  /**
   * Threshold rule: at most this many of one client's events (and of its distinct prompts) count towards it.
   * The default equals jobMinEvents, so one machine (`npm start`, `npm run demo`) still reaches the rule;
   * production lowers it (e.g. 3, so 7 clients are needed for 20 events).
   */
  jobMaxPerClient: number;
  /** Threshold rule: events from at least this many distinct clients (1 keeps one machine's demo automatic; raise it in production). */
  jobMinClients: number;
  /**
   * Threshold rule: heal automatically, ask an operator, or let the evidence decide (see
   * {@link HealPolicyMode}). The default, "evidence", heals a finding automatically when the
   * statistic and the confidence signal both fired (a span finding's own tokens near-certain,
   * spanConfidenceProbability) or an operator phrase rule matched, and holds it otherwise.
   */
  healPolicy: HealPolicyMode;
  /** Store a short prompt excerpt with each event. */
  storeExcerpts: boolean;
  /** Seconds a Worker isolate reuses the guard state it loaded from D1 (settings, lists, prefixes, counts). */
  cacheSeconds: number;
  /** Text served instead of a blocked response. */
  blockMessage: string;
}

/** Defaults that keep clean traffic quiet and catch a planted response within a few dozen requests. */
export const DEFAULT_GUARD_SETTINGS: GuardSettings = {
  prefixTokens: 16,
  defaultContainment: "observe",
  failMode: "open",
  phraseMinScore: 0.5,
  recurrenceMinScore: 0.8,
  confidenceMinScore: 0.9,
  confidenceProbability: 0.9,
  spanConfidenceProbability: 0.95,
  spanWords: 2,
  spanMinPrompts: 5,
  spanFalseAlarm: 1e-6,
  spanAloneFalseAlarm: 1e-12,
  ordinaryShare: 0.02,
  spanDefaultFrequency: 0.01,
  jobMinEvents: 3,
  jobMinDistinctPrompts: 3,
  jobMinDistinctAnswerShare: 0.5,
  jobWindowSeconds: 3600,
  eventRetentionDays: 30,
  jobMaxPerClient: 20,
  jobMinClients: 1,
  healPolicy: "evidence",
  recurrenceMinPrompts: 5,
  recurrenceRatio: 20,
  recurrenceDefaultFrequency: 0.01,
  recurrenceWindowSeconds: 86_400,
  storeExcerpts: false,
  cacheSeconds: 10,
  blockMessage: "This response was withheld by the safety guard.",
};
