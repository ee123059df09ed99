import { database } from "../db/index.js";
import { listJobs } from "../db/jobs.js";
import { hourlyEvents, listPrefixes } from "../db/prefixes.js";
import { listPhrases } from "../db/phrases.js";
import { readSettings } from "../db/settings.js";
import { listVersions } from "../db/versions.js";

/** Hours the chart covers. */
export const CHART_HOURS = 24;

/** Everything the overview page shows, read in parallel. */
export async function overviewData(d1: D1Database, now: number) {
  const db = database(d1);
  const since = Math.floor(now / 3_600_000) * 3_600_000 - (CHART_HOURS - 1) * 3_600_000;
  const [prefixes, series, jobs, versions, settings, phrases] = await Promise.all([
    listPrefixes(db, { limit: 50 }),
    hourlyEvents(db, since, 5),
    listJobs(db, { limit: 50, now }),
    listVersions(db, 50),
    readSettings(db),
    listPhrases(db),
  ]);
  return { prefixes, series, since, jobs, versions, settings, phrases };
}

/** The overview's data. */
export type OverviewData = Awaited<ReturnType<typeof overviewData>>;
