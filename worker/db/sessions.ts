/**
 * Dashboard sessions and failed sign-ins in D1. worker/dashboard/session.ts makes and
 * checks the cookies; the admin API lists and revokes sessions through here.
 */
import { and, count, desc, eq, gt, isNotNull, lte, sql } from "drizzle-orm";
import type { Database } from "./index.js";
import { dashboardLoginFailures, dashboardSessions } from "./schema.js";

/** A session row as stored. */
export type SessionRow = typeof dashboardSessions.$inferSelect;

/** A session as the admin API lists it: no secret hash, no CSRF token, no flash. */
export type SessionView = Pick<SessionRow, "id" | "client" | "userAgent" | "createdAt" | "lastSeen" | "expiresAt">;

const viewColumns = {
  id: dashboardSessions.id,
  client: dashboardSessions.client,
  userAgent: dashboardSessions.userAgent,
  createdAt: dashboardSessions.createdAt,
  lastSeen: dashboardSessions.lastSeen,
  expiresAt: dashboardSessions.expiresAt,
};

/** Stores a new session (and drops expired ones). */
export async function insertSession(
  db: Database,
  s: Pick<SessionRow, "secretHash" | "tokenTag" | "csrf" | "client" | "userAgent" | "createdAt" | "expiresAt">,
): Promise<SessionRow> {
  const [, [row]] = await db.batch([
    db.delete(dashboardSessions).where(lte(dashboardSessions.expiresAt, s.createdAt)),
    db
      .insert(dashboardSessions)
      .values({ ...s, lastSeen: s.createdAt })
      .returning(),
  ]);
  return row;
}

/** The unexpired session whose secret hashes to `secretHash`, or null. */
export async function findSession(db: Database, secretHash: string, now: number): Promise<SessionRow | null> {
  const [row] = await db
    .select()
    .from(dashboardSessions)
    .where(and(eq(dashboardSessions.secretHash, secretHash), gt(dashboardSessions.expiresAt, now)));
  return row ?? null;
}

/** Records that a session was used, at most once per `everyMs` (a cheap conditional write). */
export async function touchSession(db: Database, id: number, now: number, everyMs: number): Promise<void> {
  await db
    .update(dashboardSessions)
    .set({ lastSeen: now })
    .where(and(eq(dashboardSessions.id, id), lte(dashboardSessions.lastSeen, now - everyMs)));
}

/** Leaves `message` for the session's next page. */
export async function setFlash(db: Database, id: number, message: string): Promise<void> {
  await db.update(dashboardSessions).set({ flash: message }).where(eq(dashboardSessions.id, id));
}

/** Takes the session's pending message (cleared only if it is still the one read). */
export async function takeFlash(db: Database, id: number, message: string): Promise<void> {
  await db
    .update(dashboardSessions)
    .set({ flash: null })
    .where(and(eq(dashboardSessions.id, id), isNotNull(dashboardSessions.flash), eq(dashboardSessions.flash, message)));
}

/** Unexpired sessions, most recently used first. */
export async function listSessions(db: Database, now: number): Promise<SessionView[]> {
  return db
    .select(viewColumns)
    .from(dashboardSessions)
    .where(gt(dashboardSessions.expiresAt, now))
    .orderBy(desc(dashboardSessions.lastSeen), desc(dashboardSessions.id));
}

/** Ends one session; false when there was none. */
export async function deleteSession(db: Database, id: number): Promise<boolean> {
  const rows = await db
    .delete(dashboardSessions)
    .where(eq(dashboardSessions.id, id))
    .returning({ id: dashboardSessions.id });
  return rows.length > 0;
}

/** Ends every session, or every one but `keep`; returns how many ended. */
export async function deleteSessions(db: Database, keep?: number): Promise<number> {
  const rows = await db
    .delete(dashboardSessions)
    .where(keep === undefined ? undefined : sql`${dashboardSessions.id} <> ${keep}`)
    .returning({ id: dashboardSessions.id });
  return rows.length;
}

/** A count of failed sign-ins and the time of the oldest one counted (null when none). */
export interface FailureCount {
  n: number;
  oldest: number | null;
}

/** Failed sign-ins after `since`: from `client`, and from everyone. */
export async function recentLoginFailures(
  db: Database,
  client: string,
  since: number,
): Promise<{ client: FailureCount; all: FailureCount }> {
  const recent = gt(dashboardLoginFailures.at, since);
  const counted = { n: count(), oldest: sql<number | null>`min(${dashboardLoginFailures.at})` };
  const [[mine], [all]] = await db.batch([
    db
      .select(counted)
      .from(dashboardLoginFailures)
      .where(and(eq(dashboardLoginFailures.client, client), recent)),
    db.select(counted).from(dashboardLoginFailures).where(recent),
  ]);
  return { client: mine, all };
}

/** Records a failed sign-in and drops those at or before `pruneBefore`. */
export async function recordLoginFailure(db: Database, client: string, at: number, pruneBefore: number): Promise<void> {
  await db.batch([
    db.delete(dashboardLoginFailures).where(lte(dashboardLoginFailures.at, pruneBefore)),
    db.insert(dashboardLoginFailures).values({ client, at }),
  ]);
}
