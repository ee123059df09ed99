/** What each dashboard page shows, read from D1 in parallel. */
import { listEvents } from "../db/events.js";
import { database } from "../db/index.js";
import { listJobs } from "../db/jobs.js";
import { listPhrases } from "../db/phrases.js";
import { getPrefix, hourlyEvents, listPrefixes } from "../db/prefixes.js";
import { listSessions } from "../db/sessions.js";
import { readSettings } from "../db/settings.js";
import { listVersions } from "../db/versions.js";
import { jobsForPrefix, prefixTimeline } from "./queries.js";
import type { ChartAxis } from "./views/chart.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Hours the overview's chart covers. */
export const CHART_HOURS = 24;
/** Events listed on a prefix's page. */
export const PREFIX_EVENTS = 100;

/** The overview: prefixes and their chart, jobs, versions, settings, phrase rules, sessions. */
export async function overviewData(d1: D1Database, now: number) {
  const db = database(d1);
  const axis: ChartAxis = {
    since: Math.floor(now / HOUR) * HOUR - (CHART_HOURS - 1) * HOUR,
    buckets: CHART_HOURS,
    bucketMs: HOUR,
  };
  const [prefixes, series, jobs, versions, settings, phrases, sessions] = await Promise.all([
    listPrefixes(db, { limit: 50 }),
    hourlyEvents(db, axis.since, 5),
    listJobs(db, { limit: 50, now }),
    listVersions(db, 50),
    readSettings(db),
    listPhrases(db),
    listSessions(db, now),
  ]);
  const points = series.map((s) => ({ key: s.prefix, at: s.hour, events: s.events }));
  return { prefixes, points, axis, jobs, versions, settings, phrases, sessions };
}

/** The overview's data. */
export type OverviewData = Awaited<ReturnType<typeof overviewData>>;

/**
 * The chart axis for a prefix's life until `now`: hourly buckets when it spans up to two
 * days, else daily ones over at most the last 30 days.
 */
export function prefixAxis(firstSeen: number, now: number): ChartAxis {
  const hourly = now - firstSeen <= 2 * DAY;
  const bucketMs = hourly ? HOUR : DAY;
  const end = Math.floor(now / bucketMs) * bucketMs;
  const buckets = Math.min(hourly ? 48 : 30, Math.max(hourly ? 24 : 3, Math.floor((end - firstSeen) / bucketMs) + 1));
  return { since: end - (buckets - 1) * bucketMs, buckets, bucketMs };
}

/** One prefix's page: the prefix, its latest events, its timeline per detector and its jobs; null when there is none. */
export async function prefixData(d1: D1Database, id: number, now: number) {
  const db = database(d1);
  const prefix = await getPrefix(db, id);
  if (!prefix) return null;
  const axis = prefixAxis(prefix.firstSeen, now);
  const [events, points, jobs, settings] = await Promise.all([
    listEvents(db, { prefix: prefix.prefix, limit: PREFIX_EVENTS }),
    prefixTimeline(db, prefix.prefix, axis.since, axis.bucketMs),
    jobsForPrefix(db, prefix.prefix, 20),
    readSettings(db),
  ]);
  return { prefix, events, points, axis, jobs, settings };
}

/** A prefix page's data. */
export type PrefixData = NonNullable<Awaited<ReturnType<typeof prefixData>>>;
