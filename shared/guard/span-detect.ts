import type { DetectorHit, GuardSettings } from "../protocol/guard.js";
import { spanRuns, type SpanRun } from "./span-runs.js";
import type { AnswerSpans } from "./spans.js";
import { spanTest, type SpanTestParams, type SpanVerdict } from "./statistics.js";

/** A version's span calibration: per span key, the calibration prompts whose whole answer contained it. */
export interface SpanBaseline {
  /** N: calibration prompts. */
  prompts: number;
  /** Words per key it was taken with (must match settings.spanWords to be used). */
  spanWords: number;
  counts: ReadonlyMap<string, number>;
}

/** What the span detector needs besides the answer. */
export interface SpanContext {
  settings: Pick<
    GuardSettings,
    "spanWords" | "spanMinPrompts" | "spanFalseAlarm" | "ordinaryShare" | "spanDefaultFrequency"
  >;
  /** Null: no usable calibration (the default frequency applies). */
  baseline: SpanBaseline | null;
  /** Live distinct prompts per span key, this response included; key "" is every response (n). */
  count(key: string): number;
}

/** A flagged run of the answer, with the evidence of its most significant span. */
export interface SpanFinding extends SpanRun {
  hit: DetectorHit;
  /** The run's most significant span key: the prompts that carried it are the finding's witnesses. */
  witnessKey: string;
  /** ln P(K ≥ k | n, p_s) of that key. */
  logTail: number;
}

/**
 * Detector (4), spans: the count test ({@link spanTest}) on every span key of the answer,
 * flagged keys merged into runs ({@link spanRuns}). A hit's score is
 * min(1, ln tail ÷ (2 ln spanFalseAlarm)): ½ at the flagging threshold, 1 at its square.
 */
export function findSpans(answer: string, spans: AnswerSpans, ctx: SpanContext): SpanFinding[] {
  const s = ctx.settings;
  const params: SpanTestParams = {
    minPrompts: s.spanMinPrompts,
    falseAlarm: s.spanFalseAlarm,
    ordinaryShare: s.ordinaryShare,
    defaultFrequency: s.spanDefaultFrequency,
  };
  const n = ctx.count("");
  const flagged = new Map<string, { verdict: SpanVerdict; k: number }>();
  for (const { key } of spans.spans) {
    const k = ctx.count(key);
    if (k < params.minPrompts) continue; // the common case: no tail to compute
    const calibration = ctx.baseline
      ? { prompts: ctx.baseline.prompts, count: ctx.baseline.counts.get(key) ?? 0 }
      : null;
    const verdict = spanTest(k, n, calibration, params);
    if (verdict.flagged) flagged.set(key, { verdict, k });
  }
  if (flagged.size === 0) return [];
  const runs = spanRuns(
    answer,
    spans,
    s.spanWords,
    (key) => flagged.has(key),
    (key) => flagged.get(key)?.k ?? ctx.count(key), // a flagged key's count is known
  );
  return runs.map((run) => {
    let best: [string, { verdict: SpanVerdict; k: number }] | undefined;
    for (const key of run.flagged) {
      const f = flagged.get(key)!;
      if (!best || f.verdict.logTail < best[1].verdict.logTail) best = [key, f];
    }
    const [key, { verdict: v, k }] = best!;
    const basis = ctx.baseline
      ? `${ctx.baseline.counts.get(key) ?? 0}/${ctx.baseline.prompts} calibration prompts`
      : "no calibration";
    return {
      ...run,
      witnessKey: key,
      logTail: v.logTail,
      hit: {
        detector: "span",
        score: Math.min(1, v.logTail / (2 * Math.log(s.spanFalseAlarm))),
        detail: `"${key}": ${k}/${n} live prompts vs ${basis} (p=${v.frequency.toPrecision(3)}): tail ${Math.exp(v.logTail).toExponential(2)}`,
      },
    };
  });
}

/**
 * Whether a span finding stands: with the confidence signal (its own tokens near-certain) the
 * count test's flag suffices; without it the tail must also reach `spanAloneFalseAlarm`.
 */
export function spanStands(
  finding: Pick<SpanFinding, "logTail">,
  confident: boolean,
  settings: Pick<GuardSettings, "spanAloneFalseAlarm">,
): boolean {
  return confident || finding.logTail <= Math.log(settings.spanAloneFalseAlarm);
}
