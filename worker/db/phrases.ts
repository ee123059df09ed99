import { asc, eq } from "drizzle-orm";
import { compileRule } from "../../shared/guard/index.js";
import type { Database } from "./index.js";
import { guardPhrases } from "./schema.js";

/** A phrase-list entry as stored. */
export type PhraseRow = typeof guardPhrases.$inferSelect;

/** Entries, by list then id. */
export async function listPhrases(db: Database, list?: string): Promise<PhraseRow[]> {
  return db
    .select()
    .from(guardPhrases)
    .where(list !== undefined ? eq(guardPhrases.list, list) : undefined)
    .orderBy(asc(guardPhrases.list), asc(guardPhrases.id));
}

/** Adds an entry after checking it compiles (throws PhraseRuleError); null when the same list already has it. */
export async function addPhrase(
  db: Database,
  p: {
    list: string;
    kind: "phrase" | "regex";
    pattern: string;
    score: number;
    enabled: boolean;
    note: string | null;
    now: number;
  },
): Promise<PhraseRow | null> {
  compileRule(p);
  const [row] = await db
    .insert(guardPhrases)
    .values({
      list: p.list,
      kind: p.kind,
      pattern: p.pattern,
      score: p.score,
      enabled: p.enabled,
      note: p.note,
      createdAt: p.now,
    })
    .onConflictDoNothing()
    .returning();
  return row ?? null;
}

/** Changes an entry's score, switch or note; null when there is no such entry. */
export async function updatePhrase(
  db: Database,
  id: number,
  change: { score?: number; enabled?: boolean; note?: string | null },
): Promise<PhraseRow | null> {
  if (Object.keys(change).length === 0) {
    const [row] = await db.select().from(guardPhrases).where(eq(guardPhrases.id, id));
    return row ?? null;
  }
  const [row] = await db.update(guardPhrases).set(change).where(eq(guardPhrases.id, id)).returning();
  return row ?? null;
}

/** Deletes an entry; false when there was none. */
export async function deletePhrase(db: Database, id: number): Promise<boolean> {
  const rows = await db.delete(guardPhrases).where(eq(guardPhrases.id, id)).returning({ id: guardPhrases.id });
  return rows.length > 0;
}
