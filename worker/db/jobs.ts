/**
 * The life of a remediation job in D1, in one place: queued by the threshold rule
 * ({@link thresholdJobStatements}, inside the guard's write batch) or by hand
 * ({@link queueJob}), claimed with a lease, kept by heartbeats, requeued when a lease
 * expires, completed (see the README's state machine).
 */
import { and, asc, desc, eq, fillPlaceholders, gte, lt, sql, type SQL } from "drizzle-orm";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import type { GuardSettings } from "../../shared/protocol/guard.js";
import type { JobState, RemediationJob, RemediationMethod } from "../../shared/protocol/jobs.js";
import type { Database } from "./index.js";
import { clientCapCondition, initialJobStateSql, PROMOTE_ON_CONFLICT } from "./finding-sql.js";
import { guardPrefixes, remediationJobs } from "./schema.js";
import { recordVersion } from "./versions.js";

type JobRow = typeof remediationJobs.$inferSelect;

/** A lease that expired this many times fails the job instead of requeueing it. */
export const MAX_ATTEMPTS = 3;

/** A job row as the API shows it (the lease id only when `withLease`: the claimant's). */
export function toJob(row: JobRow, withLease = false): RemediationJob {
  return {
    id: row.id,
    state: row.state,
    method: row.method,
    target: row.target,
    ...(row.prefix !== null && { prefix: row.prefix }),
    ...(row.span !== null && { span: row.span }),
    ...(row.leadIn !== null && { leadIn: row.leadIn }),
    modelVersion: row.modelVersion,
    ...(row.claimedBy !== null && { claimedBy: row.claimedBy }),
    ...(row.leaseUntil !== null && { leaseUntil: row.leaseUntil }),
    ...(withLease && row.leaseId !== null && { leaseId: row.leaseId }),
    attempts: row.attempts,
    source: row.source === "threshold" ? "threshold" : "manual",
    ...(row.approvedAt !== null && { approvedAt: row.approvedAt }),
    ...(row.metrics !== null && { metrics: JSON.parse(row.metrics) as Record<string, number> }),
    ...(row.resultVersion !== null && { resultVersion: row.resultVersion }),
    ...(row.reason !== null && { reason: row.reason }),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Jobs, newest first, optionally in one state. Expired leases are returned to the queue first. */
export async function listJobs(
  db: Database,
  options: { state?: JobState; limit: number; now: number },
): Promise<RemediationJob[]> {
  await expireLeases(db, options.now);
  const rows = await db
    .select()
    .from(remediationJobs)
    .where(options.state ? eq(remediationJobs.state, options.state) : undefined)
    .orderBy(desc(remediationJobs.id))
    .limit(options.limit);
  return rows.map((r) => toJob(r));
}

/** One job, or null. */
export async function getJob(db: Database, id: number): Promise<RemediationJob | null> {
  const [row] = await db.select().from(remediationJobs).where(eq(remediationJobs.id, id));
  return row ? toJob(row) : null;
}

/** Queues a job by hand (the admin API); a job for a known prefix moves it to "remediating". */
export async function queueJob(
  db: Database,
  job: { method: RemediationMethod; target: string; prefix: string | null; modelVersion: string; now: number },
): Promise<RemediationJob> {
  const [row] = await db
    .insert(remediationJobs)
    .values({
      state: "queued",
      method: job.method,
      target: job.target,
      prefix: job.prefix,
      modelVersion: job.modelVersion,
      source: "manual",
      attempts: 0,
      createdAt: job.now,
      updatedAt: job.now,
    })
    .returning();
  if (job.prefix !== null) {
    await db
      .update(guardPrefixes)
      .set({ state: "remediating", updatedAt: job.now })
      .where(and(eq(guardPrefixes.prefix, job.prefix), sql`${guardPrefixes.state} <> 'ignored'`));
  }
  return toJob(row);
}

/** A job the threshold rule created (what the trainer webhook announces). */
export interface CreatedJob {
  id: number;
  /** "queued", or "awaiting_approval" when the heal policy asks an operator. */
  state: JobState;
  target: string;
  prefix: string;
  modelVersion: string;
  method: string;
  createdAt: number;
}

/** The settings of the threshold rule. */
export type ThresholdRule = Pick<
  GuardSettings,
  | "jobWindowSeconds"
  | "jobMinEvents"
  | "jobMinDistinctPrompts"
  | "jobMinDistinctAnswerShare"
  | "jobMaxPerClient"
  | "jobMinClients"
  | "healPolicy"
>;

/**
 * Everything the threshold rule decides on, in one object: the seam where further
 * conditions join the rule.
 */
export interface ThresholdInput {
  /** The finding's key (a window prefix or a span run's key). */
  prefix: string;
  modelVersion: string;
  rule: ThresholdRule;
  now: number;
}

/** The unique key of the threshold job for a prefix under a model version. */
export function thresholdKey(modelVersion: string, prefix: string): string {
  return `threshold:${modelVersion}:${prefix}`;
}

/**
 * Events of a finding's own (answers that carried its whole run, witnesses aside) the rule
 * wants, at most jobMinEvents: a span's first flagged answer may carry only part of the
 * planted text ("You are" of a misspelt "You are stuid"), and a job must not be named after
 * it; the second answer that carries the same run confirms it.
 */
export const OWN_EVENTS = 2;

/**
 * The threshold rule for one finding under `modelVersion`, as two statements (rendered once per
 * distinct rule, filled per finding) to run in
 * the same D1 batch as (after) the events they count:
 * - `insert` creates the job only if, within `jobWindowSeconds`, the finding has
 *   `jobMinEvents` events (witnesses included; {@link OWN_EVENTS} of its own) from
 *   `jobMinDistinctPrompts` distinct prompts, at least
 *   `jobMinDistinctAnswerShare` of those prompts got distinct answers (a planted text sits in
 *   front of many different answers; one ordinary answer drawn by many prompts does not;
 *   waived when an operator phrase rule flagged it), and it is not ignored; no client counts
 *   for more than `jobMaxPerClient` of the events and prompts, and they come from
 *   `jobMinClients` clients ({@link clientCapCondition}). The job carries the finding's sample
 *   as target and span, and its lead-in; it starts "queued" or, when the heal policy asks an
 *   operator, "awaiting_approval" ({@link initialJobStateSql}).
 *   ON CONFLICT(dedupe_key) on the unique `key` makes it happen exactly once, whoever runs
 *   it and however many writers run it at once; the conflict only promotes a job awaiting
 *   approval to "queued", once, when the evidence has become strong ({@link PROMOTE_ON_CONFLICT}).
 *   It RETURNS the job it created or promoted ({@link CreatedJob}), or nothing.
 * - `markRemediating` moves the finding to "remediating" while its job is queued or claimed.
 */
export function thresholdJobStatements(input: ThresholdInput): ThresholdStatements {
  const { prefix, modelVersion, rule, now } = input;
  const key = thresholdKey(modelVersion, prefix);
  const rendered = renderedRule(rule);
  const values = { prefix, modelVersion, key, now, since: now - rule.jobWindowSeconds * 1000 };
  return {
    key,
    insert: { sql: rendered.insert.sql, params: fillPlaceholders(rendered.insert.params, values) },
    markRemediating: {
      sql: rendered.markRemediating.sql,
      params: fillPlaceholders(rendered.markRemediating.params, values),
    },
  };
}

/** A statement as SQL text and its parameters. */
export interface RenderedQuery {
  sql: string;
  params: unknown[];
}

/** {@link thresholdJobStatements}'s result. */
export interface ThresholdStatements {
  key: string;
  insert: RenderedQuery;
  markRemediating: RenderedQuery;
}

const dialect = new SQLiteSyncDialect();

/** The rule's statements rendered per distinct rule (settings change rarely), the finding's values left as placeholders. */
const renderedRules = new Map<string, { insert: RenderedQuery; markRemediating: RenderedQuery }>();

function renderedRule(rule: ThresholdRule): { insert: RenderedQuery; markRemediating: RenderedQuery } {
  const cacheKey = JSON.stringify([
    rule.jobMinEvents,
    rule.jobMinDistinctPrompts,
    rule.jobMinDistinctAnswerShare,
    rule.jobMaxPerClient,
    rule.jobMinClients,
    rule.healPolicy,
  ]);
  let rendered = renderedRules.get(cacheKey);
  if (!rendered) {
    if (renderedRules.size >= 16) renderedRules.clear();
    const statements = thresholdSql(rule);
    rendered = {
      insert: dialect.sqlToQuery(statements.insert),
      markRemediating: dialect.sqlToQuery(statements.markRemediating),
    };
    renderedRules.set(cacheKey, rendered);
  }
  return rendered;
}

/** The rule's two statements over placeholders: prefix, modelVersion, key, now, since. */
function thresholdSql(rule: ThresholdRule): { insert: SQL; markRemediating: SQL } {
  const [prefix, modelVersion, key, now] = ["prefix", "modelVersion", "key", "now"].map((n) => sql.placeholder(n));
  const since = sql.placeholder("since");
  const finding = { prefix, modelVersion, since };
  const inWindow = sql`e.prefix = ${prefix} and e.model_version = ${modelVersion} and e.at >= ${since}`;
  const insert = sql`insert into remediation_jobs (state, method, target, prefix, span, lead_in, model_version, source, dedupe_key, attempts, created_at, updated_at)
    select ${initialJobStateSql(finding, rule.healPolicy)}, 'sande-p', p.sample, p.prefix, case when p.lead_in is null then null else p.sample end, p.lead_in, ${modelVersion}, 'threshold', ${key}, 0, ${now}, ${now}
    from guard_prefixes p,
      (select count(*) as events, sum(e.request_id not like 'witness:%') as own, count(distinct e.prompt_hash) as prompts,
              count(distinct coalesce(e.answer_hash, e.prompt_hash)) as answers,
              max(e.detector = 'phrase') as phrase
       from guard_events e where ${inWindow}) w
    where p.prefix = ${prefix} and p.state <> 'ignored'
      and w.events >= ${rule.jobMinEvents}
      and w.own >= ${Math.min(OWN_EVENTS, rule.jobMinEvents)}
      and w.prompts >= ${rule.jobMinDistinctPrompts}
      and (w.phrase = 1 or w.answers >= ${rule.jobMinDistinctAnswerShare} * w.prompts)
      and ${clientCapCondition(finding, rule)}
    ${PROMOTE_ON_CONFLICT}
    returning id, state, target, prefix, model_version as modelVersion, method, created_at as createdAt`;
  const markRemediating = sql`update guard_prefixes set state = 'remediating', updated_at = ${now}
    where prefix = ${prefix} and state in ('new', 'confirmed', 'remediated')
      and exists (select 1 from remediation_jobs where dedupe_key = ${key} and state in ('queued', 'claimed'))`;
  return { insert, markRemediating };
}

/**
 * Returns jobs whose lease expired to the queue (or fails them after {@link MAX_ATTEMPTS}
 * leases). Each statement is conditional on the expiry, so concurrent callers agree.
 */
export async function expireLeases(db: Database, now: number): Promise<void> {
  const expired = and(eq(remediationJobs.state, "claimed"), lt(remediationJobs.leaseUntil, now));
  await db.batch([
    db
      .update(remediationJobs)
      .set({
        state: "failed",
        reason: `lease expired ${MAX_ATTEMPTS} times`,
        claimedBy: null,
        leaseId: null,
        leaseUntil: null,
        updatedAt: now,
      })
      .where(and(expired, gte(remediationJobs.attempts, MAX_ATTEMPTS))),
    db
      .update(remediationJobs)
      .set({ state: "queued", claimedBy: null, leaseId: null, leaseUntil: null, updatedAt: now })
      .where(expired),
  ]);
}

/**
 * Claims the oldest queued job for `worker` with a lease of `leaseMs`, or returns null
 * when none is queued. One UPDATE … WHERE state = 'queued' … RETURNING: of many
 * trainers claiming at once, exactly one gets each job.
 */
export async function claimJob(
  db: Database,
  claim: { worker: string; leaseMs: number; now: number },
): Promise<RemediationJob | null> {
  await expireLeases(db, claim.now);
  const oldest = db
    .select({ id: remediationJobs.id })
    .from(remediationJobs)
    .where(eq(remediationJobs.state, "queued"))
    .orderBy(asc(remediationJobs.id))
    .limit(1);
  const [row] = await db
    .update(remediationJobs)
    .set({
      state: "claimed",
      claimedBy: claim.worker,
      leaseId: crypto.randomUUID(),
      leaseUntil: claim.now + claim.leaseMs,
      attempts: sql`${remediationJobs.attempts} + 1`,
      updatedAt: claim.now,
    })
    .where(and(eq(remediationJobs.id, sql`(${oldest})`), eq(remediationJobs.state, "queued")))
    .returning();
  return row ? toJob(row, true) : null;
}

/** Extends a lease still held (same lease id, not expired); null when it was lost. */
export async function heartbeatJob(
  db: Database,
  beat: { id: number; leaseId: string; leaseMs: number; now: number },
): Promise<RemediationJob | null> {
  const [row] = await db
    .update(remediationJobs)
    .set({ leaseUntil: beat.now + beat.leaseMs, updatedAt: beat.now })
    .where(
      and(
        eq(remediationJobs.id, beat.id),
        eq(remediationJobs.state, "claimed"),
        eq(remediationJobs.leaseId, beat.leaseId),
        gte(remediationJobs.leaseUntil, beat.now),
      ),
    )
    .returning();
  return row ? toJob(row, true) : null;
}

/** How a claimed job ended. */
export interface JobCompletion {
  id: number;
  leaseId: string;
  state: "succeeded" | "rejected" | "failed";
  metrics?: Record<string, number>;
  resultVersion?: string;
  reason?: string;
  now: number;
}

/**
 * Completes a job whose lease is still held (null otherwise) and moves its prefix on:
 * succeeded → "remediated"; rejected or failed → back to "confirmed" (a person decides).
 */
export async function completeJob(db: Database, done: JobCompletion): Promise<RemediationJob | null> {
  const [row] = await db
    .update(remediationJobs)
    .set({
      state: done.state,
      metrics: done.metrics ? JSON.stringify(done.metrics) : null,
      resultVersion: done.resultVersion ?? null,
      reason: done.reason ?? null,
      leaseId: null,
      leaseUntil: null,
      updatedAt: done.now,
    })
    .where(
      and(
        eq(remediationJobs.id, done.id),
        eq(remediationJobs.state, "claimed"),
        eq(remediationJobs.leaseId, done.leaseId),
        gte(remediationJobs.leaseUntil, done.now),
      ),
    )
    .returning();
  if (!row) return null;
  if (done.state === "succeeded" && done.resultVersion) {
    await recordVersion(db, {
      version: done.resultVersion,
      parent: row.modelVersion,
      note: `remediation job ${row.id} (${row.method})`,
      metrics: done.metrics,
      at: done.now,
    });
  }
  if (row.prefix !== null) {
    await db
      .update(guardPrefixes)
      .set({ state: done.state === "succeeded" ? "remediated" : "confirmed", updatedAt: done.now })
      .where(and(eq(guardPrefixes.prefix, row.prefix), eq(guardPrefixes.state, "remediating")));
  }
  return toJob(row);
}
