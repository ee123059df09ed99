/**
 * SQL pieces of the threshold rule that judge a finding's evidence, over the rule's
 * window (one prefix's events under one model version since a time):
 * - {@link clientCapCondition}: what one client can contribute (issue 12, 4c);
 * - {@link initialJobStateSql}: the heal policy (shared/guard/policy.ts), rendered from the
 *   same table that `healPolicy` reads, so a job's first state is "queued" exactly when
 *   `healPolicy` says "auto", and "awaiting_approval" otherwise (4d).
 * Both are evaluated inside the rule's INSERT … SELECT, in the guard's write batch.
 */
import { sql, type Placeholder, type SQL } from "drizzle-orm";
import { AUTO_HEAL_WHEN, SIGNAL_DETECTORS, type EvidenceSignal } from "../../shared/guard/index.js";
import type { GuardSettings, HealPolicyMode } from "../../shared/protocol/guard.js";

/** A value, or a placeholder filled when the statement runs (a statement rendered once, filled per finding). */
export type Param<T> = T | Placeholder;

/** A finding's events: `prefix` under `modelVersion`, at or after `since` (ms). */
export interface FindingWindow {
  prefix: Param<string>;
  modelVersion: Param<string>;
  since: Param<number>;
}

/** The settings the per-client conditions read. */
export type ClientCaps = Pick<
  GuardSettings,
  "jobMinEvents" | "jobMinDistinctPrompts" | "jobMaxPerClient" | "jobMinClients"
>;

function inWindow(w: FindingWindow): SQL {
  return sql`e.prefix = ${w.prefix} and e.model_version = ${w.modelVersion} and e.at >= ${w.since}`;
}

/** An event's client: its client hash, or (no client given, e.g. a benchmark's guard) the request as its own client. */
const CLIENT = sql`coalesce(e.client_hash, 'request:' || e.request_id)`;

/**
 * True when, counting at most `jobMaxPerClient` events and `jobMaxPerClient` distinct prompts
 * per client, the finding still has `jobMinEvents` events and `jobMinDistinctPrompts` prompts,
 * from at least `jobMinClients` distinct clients.
 */
export function clientCapCondition(w: FindingWindow, caps: ClientCaps): SQL {
  const capped = (perClient: SQL) =>
    sql`(select coalesce(sum(min(n, ${caps.jobMaxPerClient})), 0) from (select ${perClient} as n from guard_events e where ${inWindow(w)} group by ${CLIENT}))`;
  return sql`${capped(sql`count(*)`)} >= ${caps.jobMinEvents}
      and ${capped(sql`count(distinct e.prompt_hash)`)} >= ${caps.jobMinDistinctPrompts}
      and (select count(distinct ${CLIENT}) from guard_events e where ${inWindow(w)}) >= ${caps.jobMinClients}`;
}

/** True when some event of the finding has a hit from one of the signal's detectors. */
function signalSql(w: FindingWindow, signal: EvidenceSignal): SQL {
  const detectors = sql.join(
    SIGNAL_DETECTORS[signal].map((d) => sql`${d}`),
    sql`, `,
  );
  return sql`exists (select 1 from guard_events e, json_each(e.hits) h where ${inWindow(w)} and json_extract(h.value, '$.detector') in (${detectors}))`;
}

/**
 * The rule's ON CONFLICT clause: the job exists already (created once, under its unique
 * dedupe key). A job still awaiting approval is queued when the evidence has since become
 * strong (the statistic joined the confidence signal, an operator added a phrase rule): the
 * policy is applied again at every write, and the promotion happens at most once, so the
 * rule's RETURNING reports a job once as created and at most once as promoted.
 */
export const PROMOTE_ON_CONFLICT = sql`on conflict (dedupe_key) do update set state = 'queued', updated_at = excluded.updated_at
    where remediation_jobs.state = 'awaiting_approval' and excluded.state = 'queued'`;

/**
 * A new job's state under `mode`: "automatic" 'queued', "operator" 'awaiting_approval', and
 * "evidence" 'queued' when the finding's evidence meets the heal policy (AUTO_HEAL_WHEN), else
 * 'awaiting_approval'.
 */
export function initialJobStateSql(w: FindingWindow, mode: HealPolicyMode): SQL {
  if (mode === "automatic") return sql`'queued'`;
  if (mode === "operator") return sql`'awaiting_approval'`;
  const auto = sql.join(
    AUTO_HEAL_WHEN.map(
      (all) =>
        sql`(${sql.join(
          all.map((signal) => signalSql(w, signal)),
          sql` and `,
        )})`,
    ),
    sql` or `,
  );
  return sql`case when ${auto} then 'queued' else 'awaiting_approval' end`;
}
