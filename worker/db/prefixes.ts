import { and, desc, eq, gte, sql } from "drizzle-orm";
import type { Containment, PrefixState } from "../../shared/protocol/guard.js";
import type { Database } from "./index.js";
import { guardEvents, guardPrefixes } from "./schema.js";

/** A flagged prefix as the admin API shows it. */
export type PrefixView = Omit<typeof guardPrefixes.$inferSelect, "firstTokens"> & { firstTokens: number[] };

function view(row: typeof guardPrefixes.$inferSelect): PrefixView {
  return { ...row, firstTokens: JSON.parse(row.firstTokens) as number[] };
}

/** Prefixes, most recently flagged first. */
export async function listPrefixes(
  db: Database,
  options: { state?: PrefixState; limit: number },
): Promise<PrefixView[]> {
  const rows = await db
    .select()
    .from(guardPrefixes)
    .where(options.state ? eq(guardPrefixes.state, options.state) : undefined)
    .orderBy(desc(guardPrefixes.lastSeen))
    .limit(options.limit);
  return rows.map(view);
}

/** One prefix by id, or null. */
export async function getPrefix(db: Database, id: number): Promise<PrefixView | null> {
  const [row] = await db.select().from(guardPrefixes).where(eq(guardPrefixes.id, id));
  return row ? view(row) : null;
}

/** Sets a prefix's state and/or containment (undefined: unchanged; containment null: the default). Null when there is no such prefix. */
export async function updatePrefix(
  db: Database,
  id: number,
  change: { state?: PrefixState; containment?: Containment | null; now: number },
): Promise<PrefixView | null> {
  const set: Partial<typeof guardPrefixes.$inferInsert> = { updatedAt: change.now };
  if (change.state !== undefined) set.state = change.state;
  if (change.containment !== undefined) set.containment = change.containment;
  const [row] = await db.update(guardPrefixes).set(set).where(eq(guardPrefixes.id, id)).returning();
  return row ? view(row) : null;
}

/**
 * Adds a prefix by hand (known before it was ever seen), or updates the state and
 * containment of the existing one with the same normalised text.
 */
export async function upsertPrefix(
  db: Database,
  p: {
    prefix: string;
    sample: string;
    firstTokens: number[];
    state: PrefixState;
    containment: Containment | null;
    now: number;
  },
): Promise<PrefixView> {
  const [row] = await db
    .insert(guardPrefixes)
    .values({
      prefix: p.prefix,
      sample: p.sample,
      firstTokens: JSON.stringify(p.firstTokens),
      events: 0,
      prompts: 0,
      firstSeen: p.now,
      lastSeen: p.now,
      state: p.state,
      containment: p.containment,
      updatedAt: p.now,
    })
    .onConflictDoUpdate({
      target: guardPrefixes.prefix,
      set: { state: p.state, containment: p.containment, updatedAt: p.now },
    })
    .returning();
  return view(row);
}

/** Hourly event counts of the most flagged prefixes since `since` (for the dashboard chart). */
export async function hourlyEvents(
  db: Database,
  since: number,
  top: number,
): Promise<{ prefix: string; hour: number; events: number }[]> {
  const hour = sql<number>`(${guardEvents.at} / 3600000) * 3600000`;
  const leaders = db
    .select({ prefix: guardEvents.prefix })
    .from(guardEvents)
    .where(gte(guardEvents.at, since))
    .groupBy(guardEvents.prefix)
    .orderBy(desc(sql`count(*)`))
    .limit(top);
  return db
    .select({ prefix: guardEvents.prefix, hour, events: sql<number>`count(*)` })
    .from(guardEvents)
    .where(and(gte(guardEvents.at, since), sql`${guardEvents.prefix} in ${leaders}`))
    .groupBy(guardEvents.prefix, hour)
    .orderBy(hour);
}
