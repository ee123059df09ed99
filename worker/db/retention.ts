/**
 * Event retention: deleting flagged events older than `eventRetentionDays`, run with the
 * guard's periodic prune (worker/guard/writer.ts), in its batch. A prefix's `events` and
 * `prompts` count the events kept: the prefixes that lose events are recounted in the
 * same transaction, before the delete commits, so no reader sees counts of deleted rows.
 * The rest of a prefix (sample, first/last seen, top score, state, containment) is kept.
 */
import { lt, sql } from "drizzle-orm";
import type { Database } from "./index.js";
import { guardEvents, guardPrefixes } from "./schema.js";

/** The first moment still kept under `eventRetentionDays` at `now` (ms). */
export function retentionCutoff(now: number, eventRetentionDays: number): number {
  return now - eventRetentionDays * 86_400_000;
}

/**
 * The statements that drop events before `cutoff` (ms) and recount the prefixes they
 * belonged to over the events that remain; run them in this order, in one batch.
 */
export function eventRetentionStatements(db: Database, cutoff: number, now: number) {
  const losing = db.selectDistinct({ prefix: guardEvents.prefix }).from(guardEvents).where(lt(guardEvents.at, cutoff));
  const recount = db
    .update(guardPrefixes)
    .set({
      events: sql`(select count(*) from guard_events as e where e.prefix = guard_prefixes.prefix and e.at >= ${cutoff})`,
      prompts: sql`(select count(distinct e.prompt_hash) from guard_events as e where e.prefix = guard_prefixes.prefix and e.at >= ${cutoff})`,
      updatedAt: now,
    })
    .where(sql`${guardPrefixes.prefix} in ${losing}`);
  const drop = db.delete(guardEvents).where(lt(guardEvents.at, cutoff));
  return [recount, drop] as const;
}
