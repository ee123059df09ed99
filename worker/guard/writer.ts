import { sql, type SQL } from "drizzle-orm";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import type { GuardEvent, GuardSettings } from "../../shared/protocol/guard.js";
import type { Database } from "../db/index.js";
import { thresholdJobStatements, type CreatedJob } from "../db/jobs.js";
import { eventRetentionStatements, retentionCutoff } from "../db/retention.js";
import { guardEvents, guardPrefixes, modelVersions, prefixSightings } from "../db/schema.js";

/** A flagged response waiting to be written. */
export interface PendingEvent {
  event: GuardEvent;
  /** Raw window text, or a span finding's raw span (shown on the dashboard, used as the job's target). */
  sample: string;
  firstTokens: number[];
  /** A span finding's lead-in: the raw text before the span ("" at the start); absent for window events. */
  leadIn?: string;
}

/** One response's (version, prefix, prompt), for the recurrence counters. */
export interface PendingSighting {
  modelVersion: string;
  prefix: string;
  promptHash: string;
  at: number;
}

/** What one write does. */
export interface GuardWrite {
  events: readonly PendingEvent[];
  sightings: readonly PendingSighting[];
  /** Threshold rule and pruning window (the settings current when the write starts). */
  settings: GuardSettings;
  now: number;
  /** Delete sightings older than the recurrence window and events older than their retention (now and then, not every write). */
  prune: boolean;
}

/** D1 allows 100 bound parameters per statement. */
const MAX_PARAMS = 100;

/**
 * Writes events, prefix aggregates, sightings and model versions in one D1 batch (one
 * transaction), then applies the threshold rule to every prefix flagged in it: when a
 * prefix reaches `jobMinEvents` events from `jobMinDistinctPrompts` distinct prompts
 * (enough of them with distinct answers) within `jobWindowSeconds` for one model version, one job is inserted
 * ({@link thresholdJobStatements} in worker/db/jobs.ts: conditional, keyed by a unique
 * `dedupe_key`, so concurrent writers create exactly one job). Returns the jobs this write created.
 */
export async function writeGuardBatch(db: Database, write: GuardWrite): Promise<CreatedJob[]> {
  const { events, sightings, settings, now } = write;
  const items: Query[] = [];

  const versions = new Map<string, number>();
  for (const s of sightings) versions.set(s.modelVersion, Math.max(versions.get(s.modelVersion) ?? 0, s.at));
  for (const e of events)
    versions.set(e.event.modelVersion, Math.max(versions.get(e.event.modelVersion) ?? 0, e.event.at));
  for (const [version, at] of versions) {
    items.push(
      db
        .insert(modelVersions)
        .values({ version, firstSeen: at, lastSeen: at })
        .onConflictDoUpdate({
          target: modelVersions.version,
          set: { lastSeen: sql`max(${modelVersions.lastSeen}, excluded.last_seen)` },
        }),
    );
  }

  for (const rows of chunks(events, Math.floor(MAX_PARAMS / 11))) {
    items.push(
      db
        .insert(guardEvents)
        .values(
          rows.map(({ event: e }) => ({
            prefix: e.prefix,
            detector: e.hits[0]?.detector ?? "known",
            score: e.score,
            hits: JSON.stringify(e.hits),
            promptHash: e.promptHash,
            excerpt: e.excerpt ?? null,
            modelVersion: e.modelVersion,
            requestId: e.requestId,
            clientHash: e.clientHash ?? null,
            action: e.action,
            at: e.at,
            answerHash: e.answerHash ?? null,
          })),
        )
        .onConflictDoNothing({ target: [guardEvents.requestId, guardEvents.prefix] }), // a request is logged once per finding
    );
  }

  // Aggregates are recounted from the events (not incremented), so a repeated write changes nothing.
  const flagged = new Map<string, PendingEvent>();
  for (const p of events) if (!flagged.has(p.event.prefix)) flagged.set(p.event.prefix, p);
  for (const [prefix, p] of flagged) {
    const e = p.event;
    const top = e.hits[0];
    items.push(
      db
        .insert(guardPrefixes)
        .values({
          prefix,
          sample: p.sample,
          firstTokens: JSON.stringify(p.firstTokens.slice(0, 8)),
          leadIn: p.leadIn ?? null,
          events: 1,
          prompts: 1,
          topDetector: top?.detector ?? "known",
          topScore: e.score,
          lastModelVersion: e.modelVersion,
          firstSeen: e.at,
          lastSeen: e.at,
          updatedAt: now,
        })
        .onConflictDoUpdate({
          target: guardPrefixes.prefix,
          set: {
            events: sql`(select count(*) from ${guardEvents} where ${guardEvents.prefix} = excluded.prefix)`,
            prompts: sql`(select count(distinct ${guardEvents.promptHash}) from ${guardEvents} where ${guardEvents.prefix} = excluded.prefix)`,
            topDetector: sql`case when excluded.top_score > ${guardPrefixes.topScore} then excluded.top_detector else ${guardPrefixes.topDetector} end`,
            topScore: sql`max(${guardPrefixes.topScore}, excluded.top_score)`,
            lastModelVersion: sql`excluded.last_model_version`,
            lastSeen: sql`max(${guardPrefixes.lastSeen}, excluded.last_seen)`,
            leadIn: sql`coalesce(${guardPrefixes.leadIn}, excluded.lead_in)`,
            updatedAt: now,
          },
        }),
    );
  }

  for (const rows of chunks(sightings, Math.floor(MAX_PARAMS / 4))) {
    items.push(
      db
        .insert(prefixSightings)
        .values(
          rows.map((s) => ({ modelVersion: s.modelVersion, prefix: s.prefix, promptHash: s.promptHash, seenAt: s.at })),
        )
        .onConflictDoUpdate({
          target: [prefixSightings.modelVersion, prefixSightings.prefix, prefixSightings.promptHash],
          set: { seenAt: sql`max(${prefixSightings.seenAt}, excluded.seen_at)` },
        }),
    );
  }
  if (write.prune)
    items.push(
      db
        .delete(prefixSightings)
        .where(sql`${prefixSightings.seenAt} < ${now - settings.recurrenceWindowSeconds * 1000}`),
      ...eventRetentionStatements(db, retentionCutoff(now, settings.eventRetentionDays), now),
    );

  // Threshold rule, after the events it counts (same transaction).
  const ruleStart = items.length;
  const keys: string[] = [];
  for (const [prefix, p] of flagged) {
    const rule = thresholdJobStatements({ prefix, modelVersion: p.event.modelVersion, rule: settings, now });
    keys.push(rule.key);
    items.push(raw(rule.insert), raw(rule.markRemediating));
  }
  if (items.length === 0) return [];

  // Straight to D1's batch (drizzle's batch cannot bind raw SQL with parameters).
  const d1 = db.$client;
  const results = await d1.batch(items.map((q) => d1.prepare(q.toSQL().sql).bind(...q.toSQL().params)));
  const created: CreatedJob[] = [];
  for (let i = 0; i < keys.length; i++)
    for (const row of results[ruleStart + 2 * i].results as CreatedJob[]) created.push(row);
  return created;
}

/** Anything that renders to SQL and parameters: a drizzle query builder, or {@link raw}. */
interface Query {
  toSQL(): { sql: string; params: unknown[] };
}

const dialect = new SQLiteSyncDialect();

function raw(query: SQL): Query {
  return { toSQL: () => dialect.sqlToQuery(query) };
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
