import { and, desc, eq, gte, ne, or, isNotNull } from "drizzle-orm";
import {
  compilePhrases,
  NO_PHRASES,
  PrefixIndex,
  settingsFromStored,
  type Calibration,
  type CompiledPhrases,
  type PhraseRule,
  type SpanBaseline,
} from "../../shared/guard/index.js";
import {
  DEFAULT_GUARD_SETTINGS,
  type Containment,
  type GuardSettings,
  type PrefixState,
} from "../../shared/protocol/guard.js";
import type { LogitMask } from "../../shared/inference/index.js";
import type { Database } from "../db/index.js";
import {
  calibrationPrefixes,
  calibrationSets,
  calibrationSpans,
  guardPhrases,
  guardPrefixes,
  guardSettings,
  prefixTraffic,
  trafficTotals,
} from "../db/schema.js";

/** A prefix the operator (or the threshold rule) has judged: its state and containment. */
export interface KnownPrefix {
  state: PrefixState;
  /** Null: the settings' defaultContainment. */
  containment: Containment | null;
  firstTokens: number[];
}

/**
 * Everything `inspect` needs, loaded from D1 in one batch and reused by every request of
 * the isolate for `settings.cacheSeconds`.
 */
export interface GuardState {
  modelVersion: string;
  settings: GuardSettings;
  phrases: CompiledPhrases;
  /** Normalised prefix → verdict, for prefixes that are not plain "new" with default containment. */
  prefixes: PrefixIndex<KnownPrefix>;
  /** First tokens of prefixes in "regenerate" containment: banned at the first step. */
  bannedFirstTokens: readonly number[];
  /** Logit mask applying `bannedFirstTokens` (absent when there are none). */
  logitMask?: LogitMask;
  calibration: Calibration | null;
  /** The version's span calibration, when taken with settings.spanWords (else null: the default frequency applies). */
  spanBaseline: SpanBaseline | null;
  /** Distinct prompts per prefix or span key in the recurrence window (keys seen with ≥ 2); key "" counts every response. */
  traffic: ReadonlyMap<string, number>;
  /** Sightings in the recurrence window. */
  total: number;
  loadedAt: number;
  /** Set when D1 could not be read and this state is a stand-in (defaults, or a stale copy). */
  degraded?: "stale" | "unavailable";
}

/** Most rows of each kind one load reads (guards the isolate's memory). */
const LIMITS = { prefixes: 10_000, traffic: 5_000, calibration: 50_000, spans: 200_000 };

/**
 * Reads the guard state for one model version in one D1 round trip. The calibration
 * changes rarely and can be large, so it is loaded apart ({@link loadCalibration}) and
 * attached with {@link withCalibration}.
 */
export async function loadGuardState(db: Database, modelVersion: string, now: number): Promise<GuardState> {
  const [settingsRows, phraseRows, prefixRows, trafficRows, totalRows] = await db.batch([
    db.select().from(guardSettings).where(eq(guardSettings.id, 1)),
    db.select().from(guardPhrases).where(eq(guardPhrases.enabled, true)),
    db
      .select({
        prefix: guardPrefixes.prefix,
        state: guardPrefixes.state,
        containment: guardPrefixes.containment,
        firstTokens: guardPrefixes.firstTokens,
      })
      .from(guardPrefixes)
      .where(or(ne(guardPrefixes.state, "new"), isNotNull(guardPrefixes.containment)))
      .orderBy(desc(guardPrefixes.lastSeen))
      .limit(LIMITS.prefixes),
    db
      .select({ prefix: prefixTraffic.prefix, prompts: prefixTraffic.prompts })
      .from(prefixTraffic)
      .where(and(eq(prefixTraffic.modelVersion, modelVersion), gte(prefixTraffic.prompts, 2)))
      .orderBy(desc(prefixTraffic.prompts))
      .limit(LIMITS.traffic),
    db.select().from(trafficTotals).where(eq(trafficTotals.modelVersion, modelVersion)),
  ]);

  return buildGuardState({
    modelVersion,
    now,
    storedSettings: settingsRows[0]?.settings ?? null,
    phrases: phraseRows.map((r) => ({ id: r.id, list: r.list, kind: r.kind, pattern: r.pattern, score: r.score })),
    prefixes: prefixRows,
    traffic: trafficRows,
    total: totalRows[0]?.sightings ?? 0,
  });
}

/** The rows a guard state is built from (as read from D1). */
export interface GuardStateRows {
  modelVersion: string;
  now: number;
  /** JSON of the settings row, or null for defaults. */
  storedSettings: string | null;
  phrases: readonly PhraseRule[];
  prefixes: readonly { prefix: string; state: PrefixState; containment: Containment | null; firstTokens: string }[];
  traffic: readonly { prefix: string; prompts: number }[];
  total: number;
}

/** Builds a state from rows (pure: compiles phrases, indexes prefixes, builds the logit mask). */
export function buildGuardState(rows: GuardStateRows): GuardState {
  let settings: GuardSettings = DEFAULT_GUARD_SETTINGS;
  if (rows.storedSettings !== null) {
    try {
      settings = settingsFromStored(JSON.parse(rows.storedSettings));
    } catch (e) {
      console.warn(`guard: stored settings are unusable, using defaults: ${(e as Error).message}`);
    }
  }
  const phrases = rows.phrases.length
    ? compilePhrases(rows.phrases, (rule, e) => console.warn(`guard: phrase rule ${rule.id} skipped: ${e.message}`))
    : NO_PHRASES;

  const prefixes = new PrefixIndex<KnownPrefix>();
  const banned = new Set<number>();
  for (const row of rows.prefixes) {
    const firstTokens = parseTokens(row.firstTokens);
    prefixes.set(row.prefix, { state: row.state, containment: row.containment, firstTokens });
    if (row.containment === "regenerate" && row.state !== "ignored" && firstTokens.length > 0)
      banned.add(firstTokens[0]);
  }
  return {
    modelVersion: rows.modelVersion,
    settings,
    phrases,
    prefixes,
    bannedFirstTokens: [...banned],
    logitMask: banned.size ? banFirstTokens([...banned]) : undefined,
    calibration: null,
    spanBaseline: null,
    traffic: new Map(rows.traffic.map((r) => [r.prefix, r.prompts])),
    total: rows.total,
    loadedAt: rows.now,
  };
}

/** A logit mask that bans `tokens` at the first generated position. */
export function banFirstTokens(tokens: readonly number[]): LogitMask {
  return function banFirstTokensMask(logits, step) {
    if (step !== 0) return;
    for (const t of tokens) if (t < logits.length) logits[t] = -Infinity;
  };
}

/** The state used when D1 could not be read and nothing was loaded before. */
export function unavailableState(
  modelVersion: string,
  now: number,
  settings: GuardSettings = DEFAULT_GUARD_SETTINGS,
): GuardState {
  return {
    modelVersion,
    settings,
    phrases: NO_PHRASES,
    prefixes: new PrefixIndex(),
    bannedFirstTokens: [],
    calibration: null,
    spanBaseline: null,
    traffic: new Map(),
    total: 0,
    loadedAt: now,
    degraded: "unavailable",
  };
}

/** A model version's calibration as stored, with the window length it was taken at, and its span counts if any. */
export interface StoredCalibration extends Calibration {
  prefixTokens: number;
  /** Null for an upload without span counts. */
  spans: SpanBaseline | null;
}

/**
 * The state with `calibration` attached, unless it was taken with another window length (then
 * it counts other prefixes), and its span counts unless taken with another span length.
 */
export function withCalibration(state: GuardState, calibration: StoredCalibration | null): GuardState {
  const spans = calibration?.spans;
  return {
    ...state,
    calibration: calibration && calibration.prefixTokens === state.settings.prefixTokens ? calibration : null,
    spanBaseline: spans && spans.spanWords === state.settings.spanWords ? spans : null,
  };
}

/** Reads a model version's calibration (null when it has none). */
export async function loadCalibration(db: Database, modelVersion: string): Promise<StoredCalibration | null> {
  const [sets, rows, spanRows] = await db.batch([
    db.select().from(calibrationSets).where(eq(calibrationSets.modelVersion, modelVersion)),
    db
      .select({ prefix: calibrationPrefixes.prefix, prompts: calibrationPrefixes.prompts })
      .from(calibrationPrefixes)
      .where(eq(calibrationPrefixes.modelVersion, modelVersion))
      .limit(LIMITS.calibration),
    db
      .select({ span: calibrationSpans.span, prompts: calibrationSpans.prompts })
      .from(calibrationSpans)
      .where(eq(calibrationSpans.modelVersion, modelVersion))
      .limit(LIMITS.spans),
  ]);
  const set = sets[0];
  if (!set) return null;
  return {
    prompts: set.prompts,
    prefixTokens: set.prefixTokens,
    counts: new Map(rows.map((r) => [r.prefix, r.prompts])),
    spans:
      set.spanWords === null
        ? null
        : {
            prompts: set.prompts,
            spanWords: set.spanWords,
            counts: new Map(spanRows.map((r) => [r.span, r.prompts])),
          },
  };
}

function parseTokens(json: string): number[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((t): t is number => Number.isInteger(t)) : [];
  } catch {
    return [];
  }
}
