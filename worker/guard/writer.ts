import { sql, type SQL } from "drizzle-orm";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import type { GuardEvent, GuardSettings } from "../../shared/protocol/guard.js";
import type { Database } from "../db/index.js";
import { thresholdJobStatements, type CreatedJob } from "../db/jobs.js";
import { eventRetentionStatements, retentionCutoff } from "../db/retention.js";
import { prefixSightings } from "../db/schema.js";

/** A flagged response waiting to be written. */
export interface PendingEvent {
  event: GuardEvent;
  /** Raw window text, or a span finding's raw span (shown on the dashboard, used as the job's target). */
  sample: string;
  firstTokens: number[];
  /** A span finding's lead-in: the raw text before the span ("" at the start); absent for window events. */
  leadIn?: string;
  /**
   * A span finding's most significant span key: the earlier sightings of that key (their
   * prompts, clients and answers) are written as the finding's witness events, so the
   * threshold rule counts every prompt the count test counted, not only those after the flag.
   */
  witnessKey?: string;
}

/** One response's (version, prefix, prompt), for the recurrence counters. */
export interface PendingSighting {
  modelVersion: string;
  prefix: string;
  promptHash: string;
  at: number;
  /** Span keys: the client's hash and the answer's (what a witness event carries). */
  clientHash?: string;
  answerHash?: string;
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
 * Writes events, sightings, a span finding's witness events, prefix aggregates and model
 * versions in one D1 batch (one transaction), then applies the threshold rule to every prefix flagged in it: when a
 * prefix reaches `jobMinEvents` events from `jobMinDistinctPrompts` distinct prompts
 * (enough of them with distinct answers) within `jobWindowSeconds` for one model version, one job is inserted
 * ({@link thresholdJobStatements} in worker/db/jobs.ts: conditional, keyed by a unique
 * `dedupe_key`, so concurrent writers create exactly one job). Returns the jobs this write created.
 */
export async function writeGuardBatch(db: Database, write: GuardWrite): Promise<CreatedJob[]> {
  const { events, sightings, settings, now } = write;
  // The first event of each finding in this write: its sample, lead-in and witness key.
  const flagged = new Map<string, PendingEvent>();
  for (const p of events) if (!flagged.has(p.event.prefix)) flagged.set(p.event.prefix, p);

  const items: Query[] = [
    ...versionStatements(write),
    ...eventStatements(events),
    ...sightingStatements(sightings),
    // Witnesses after the sightings they are read from, aggregates after every event they count.
    ...[...flagged]
      .filter(([, p]) => p.witnessKey !== undefined)
      .map(([k, p]) => witnessStatement(k, p, settings, now)),
    ...[...flagged].map(([prefix, p]) => prefixStatement(prefix, p, now)),
  ];
  if (write.prune)
    items.push(
      db
        .delete(prefixSightings)
        .where(sql`${prefixSightings.seenAt} < ${now - settings.recurrenceWindowSeconds * 1000}`),
      ...eventRetentionStatements(db, retentionCutoff(now, settings.eventRetentionDays), now),
    );

  // Threshold rule, after the events it counts (same transaction).
  const ruleStart = items.length;
  for (const [prefix, p] of flagged) {
    const rule = thresholdJobStatements({ prefix, modelVersion: p.event.modelVersion, rule: settings, now });
    items.push(
      plain(rule.insert.sql, rule.insert.params),
      plain(rule.markRemediating.sql, rule.markRemediating.params),
    );
  }
  if (items.length === 0) return [];

  // Straight to D1's batch (drizzle's batch cannot bind raw SQL with parameters).
  const d1 = db.$client;
  const results = await d1.batch(
    items.map((q) => {
      const { sql: text, params } = q.toSQL();
      return d1.prepare(text).bind(...params);
    }),
  );
  const created: CreatedJob[] = [];
  for (let i = 0; i < flagged.size; i++)
    for (const row of results[ruleStart + 2 * i].results as CreatedJob[]) created.push(row);
  return created;
}

/** Upsert of one model version's first and last seen (plain SQL: see {@link sightingStatements}). */
const VERSION_SQL = `insert into model_versions (version, first_seen, last_seen) values (?, ?, ?)
  on conflict (version) do update set last_seen = max(last_seen, excluded.last_seen)`;

/** Each model version seen in the write: first and last seen. */
function versionStatements({ events, sightings }: GuardWrite): Query[] {
  const versions = new Map<string, number>();
  for (const s of sightings) versions.set(s.modelVersion, Math.max(versions.get(s.modelVersion) ?? 0, s.at));
  for (const e of events)
    versions.set(e.event.modelVersion, Math.max(versions.get(e.event.modelVersion) ?? 0, e.event.at));
  return [...versions].map(([version, at]) => plain(VERSION_SQL, [version, at, at]));
}

/** Columns of an event row, in the order {@link eventStatements} binds them. */
const EVENT_COLUMNS = 12;

/** The events, logged once per request and finding (plain multi-row SQL: see {@link sightingStatements}). */
function eventStatements(events: readonly PendingEvent[]): Query[] {
  return chunks(events, Math.floor(MAX_PARAMS / EVENT_COLUMNS)).map((rows) => {
    const params: unknown[] = [];
    for (const { event: e } of rows)
      params.push(
        e.prefix,
        e.hits[0]?.detector ?? "known",
        e.score,
        JSON.stringify(e.hits),
        e.promptHash,
        e.excerpt ?? null,
        e.modelVersion,
        e.requestId,
        e.clientHash ?? null,
        e.action,
        e.at,
        e.answerHash ?? null,
      );
    const text = `insert into guard_events (prefix, detector, score, hits, prompt_hash, excerpt, model_version, request_id, client_hash, action, at, answer_hash) values ${rows
      .map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .join(", ")} on conflict (request_id, prefix) do nothing`;
    return plain(text, params);
  });
}

/** Columns of a sighting row, in the order {@link sightingStatements} binds them. */
const SIGHTING_COLUMNS = 6;

/**
 * The recurrence and span sightings, one row per (version, key, prompt), its time the latest.
 * Plain multi-row SQL rather than the query builder: a write carries a few hundred of them
 * (one per span key of each answer), and building each through drizzle made garbage that the
 * isolate collected on the response path.
 */
function sightingStatements(sightings: readonly PendingSighting[]): Query[] {
  const rows = Math.floor(MAX_PARAMS / SIGHTING_COLUMNS);
  const out: Query[] = [];
  for (let i = 0; i < sightings.length; i += rows) {
    const chunk = sightings.slice(i, i + rows);
    const params: unknown[] = [];
    for (const s of chunk)
      params.push(s.modelVersion, s.prefix, s.promptHash, s.at, s.clientHash ?? null, s.answerHash ?? null);
    const text = `insert into prefix_sightings (model_version, prefix, prompt_hash, seen_at, client_hash, answer_hash) values ${chunk
      .map(() => "(?, ?, ?, ?, ?, ?)")
      .join(
        ", ",
      )} on conflict (model_version, prefix, prompt_hash) do update set seen_at = max(seen_at, excluded.seen_at)`;
    out.push(plain(text, params));
  }
  return out;
}

/**
 * A finding's aggregate row, recounted from its events (not incremented), so a repeated write
 * changes nothing; counted from the events even on first insert (a finding's witnesses are in
 * already). Plain SQL: see {@link sightingStatements}.
 */
const PREFIX_SQL = `insert into guard_prefixes (prefix, sample, first_tokens, lead_in, events, prompts, top_detector, top_score, last_model_version, first_seen, last_seen, updated_at)
  values (?1, ?2, ?3, ?4, (select count(*) from guard_events where prefix = ?1),
    (select count(distinct prompt_hash) from guard_events where prefix = ?1), ?5, ?6, ?7, ?8, ?8, ?9)
  on conflict (prefix) do update set
    events = (select count(*) from guard_events e where e.prefix = excluded.prefix),
    prompts = (select count(distinct e.prompt_hash) from guard_events e where e.prefix = excluded.prefix),
    top_detector = case when excluded.top_score > guard_prefixes.top_score then excluded.top_detector else guard_prefixes.top_detector end,
    top_score = max(guard_prefixes.top_score, excluded.top_score),
    last_model_version = excluded.last_model_version,
    last_seen = max(guard_prefixes.last_seen, excluded.last_seen),
    lead_in = coalesce(guard_prefixes.lead_in, excluded.lead_in),
    updated_at = excluded.updated_at`;

function prefixStatement(prefix: string, p: PendingEvent, now: number): Query {
  const e = p.event;
  const firstTokens = JSON.stringify(p.firstTokens.slice(0, 8));
  const detector = e.hits[0]?.detector ?? "known";
  return plain(PREFIX_SQL, [
    prefix,
    p.sample,
    firstTokens,
    p.leadIn ?? null,
    detector,
    e.score,
    e.modelVersion,
    e.at,
    now,
  ]);
}

/** Most witness events one write adds for one finding. */
const MAX_WITNESSES = 100;

/**
 * A span finding's witness events: every prompt whose answer carried the finding's witness
 * key within the rule's window, and that has no event of the finding yet, becomes an
 * observe-only event at the time of its sighting, with that answer's client and answer hash
 * (so the threshold rule's distinct-answer share and per-client caps apply to it unchanged).
 * Its request id is "witness:<version>:<prompt hash>": written once, however often the finding is.
 */
function witnessStatement(prefix: string, p: PendingEvent, settings: GuardSettings, now: number): Query {
  const version = p.event.modelVersion;
  const since = now - settings.jobWindowSeconds * 1000;
  const hits = JSON.stringify([
    {
      detector: "span",
      score: 0,
      detail: `witness: this prompt's answer carried "${p.witnessKey}" before the span was flagged`,
    },
  ]);
  return raw(sql`insert into guard_events (prefix, detector, score, hits, prompt_hash, excerpt, model_version, request_id, client_hash, action, at, answer_hash)
    select ${prefix}, 'span', 0, ${hits}, s.prompt_hash, null, s.model_version, 'witness:' || s.model_version || ':' || s.prompt_hash, s.client_hash, 'observe', s.seen_at, s.answer_hash
    from prefix_sightings s
    where s.model_version = ${version} and s.prefix = ${p.witnessKey} and s.seen_at >= ${since} and s.answer_hash is not null
      and not exists (select 1 from guard_events e where e.prefix = ${prefix} and e.model_version = ${version} and e.prompt_hash = s.prompt_hash)
    order by s.seen_at desc limit ${MAX_WITNESSES}
    on conflict (request_id, prefix) do nothing`);
}

/** Anything that renders to SQL and parameters: a drizzle query builder, or {@link raw}. */
interface Query {
  toSQL(): { sql: string; params: unknown[] };
}

const dialect = new SQLiteSyncDialect();

/** A statement written as SQL text with its parameters. */
function plain(text: string, params: unknown[]): Query {
  return { toSQL: () => ({ sql: text, params }) };
}

function raw(query: SQL): Query {
  return { toSQL: () => dialect.sqlToQuery(query) };
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
