/** The dashboard's own reads (the admin API has no use for them). */
import { and, desc, eq, gte, sql } from "drizzle-orm";
import type { RemediationJob } from "../../shared/protocol/jobs.js";
import type { Database } from "../db/index.js";
import { toJob } from "../db/jobs.js";
import { guardEvents, remediationJobs } from "../db/schema.js";
import type { ChartPoint } from "./views/chart.js";

/** Events of `prefix` since `since`, per bucket of `bucketMs` and per top detector. */
export async function prefixTimeline(
  db: Database,
  prefix: string,
  since: number,
  bucketMs: number,
): Promise<ChartPoint[]> {
  if (!Number.isSafeInteger(bucketMs) || bucketMs < 1)
    throw new Error(`bucketMs must be a positive integer, got ${bucketMs}`);
  // Inlined: D1 binds numbers as REAL, and a REAL divisor would not truncate to the bucket's start.
  const width = sql.raw(String(bucketMs));
  const bucket = sql<number>`(${guardEvents.at} / ${width}) * ${width}`;
  return db
    .select({ key: guardEvents.detector, at: bucket, events: sql<number>`count(*)` })
    .from(guardEvents)
    .where(and(eq(guardEvents.prefix, prefix), gte(guardEvents.at, since)))
    .groupBy(guardEvents.detector, bucket)
    .orderBy(bucket);
}

/** Jobs that heal `prefix`, newest first. */
export async function jobsForPrefix(db: Database, prefix: string, limit: number): Promise<RemediationJob[]> {
  const rows = await db
    .select()
    .from(remediationJobs)
    .where(eq(remediationJobs.prefix, prefix))
    .orderBy(desc(remediationJobs.id))
    .limit(limit);
  return rows.map((r) => toJob(r));
}
