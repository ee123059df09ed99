import { desc, eq } from "drizzle-orm";
import { normalisePrefix } from "../../shared/guard/index.js";
import type { Database } from "./index.js";
import { calibrationPrefixes, calibrationSets, calibrationSpans } from "./schema.js";

/** A calibration upload: how many of `prompts` calibration prompts produced each prefix (first `prefixTokens` tokens). */
export interface CalibrationUpload {
  modelVersion: string;
  prompts: number;
  prefixTokens: number;
  prefixes: Record<string, number>;
  /** Span key → calibration prompts whose whole answer contains it, taken with `spanWords`; null for an older upload. */
  spans: { spanWords: number; counts: Record<string, number> } | null;
  source: string | null;
  now: number;
}

/**
 * Replaces a version's calibration in one batch. Keys are normalised here (uploads may
 * send raw prefixes); counts of keys that normalise alike add up.
 */
export async function putCalibration(
  db: Database,
  c: CalibrationUpload,
): Promise<{ prompts: number; distinctPrefixes: number; distinctSpans: number }> {
  const counts = new Map<string, number>();
  for (const [raw, n] of Object.entries(c.prefixes)) {
    const key = normalisePrefix(raw);
    counts.set(key, (counts.get(key) ?? 0) + n);
  }
  const rows = [...counts].map(([prefix, prompts]) => ({ modelVersion: c.modelVersion, prefix, prompts }));
  const spanRows = Object.entries(c.spans?.counts ?? {}).map(([span, prompts]) => ({
    modelVersion: c.modelVersion,
    span,
    prompts,
  }));
  const inserts = [];
  // 3 params a row, D1 allows 100
  for (let i = 0; i < rows.length; i += 33) inserts.push(db.insert(calibrationPrefixes).values(rows.slice(i, i + 33)));
  for (let i = 0; i < spanRows.length; i += 33)
    inserts.push(db.insert(calibrationSpans).values(spanRows.slice(i, i + 33)));
  const spanWords = c.spans?.spanWords ?? null;
  await db.batch([
    db.delete(calibrationPrefixes).where(eq(calibrationPrefixes.modelVersion, c.modelVersion)),
    db.delete(calibrationSpans).where(eq(calibrationSpans.modelVersion, c.modelVersion)),
    db
      .insert(calibrationSets)
      .values({
        modelVersion: c.modelVersion,
        prompts: c.prompts,
        prefixTokens: c.prefixTokens,
        spanWords,
        source: c.source,
        createdAt: c.now,
      })
      .onConflictDoUpdate({
        target: calibrationSets.modelVersion,
        set: { prompts: c.prompts, prefixTokens: c.prefixTokens, spanWords, source: c.source, createdAt: c.now },
      }),
    ...inserts,
  ]);
  return { prompts: c.prompts, distinctPrefixes: rows.length, distinctSpans: spanRows.length };
}

/** A version's calibration summary and its most frequent prefixes, or null. */
export async function calibrationSummary(db: Database, modelVersion: string, top: number) {
  const [set] = await db.select().from(calibrationSets).where(eq(calibrationSets.modelVersion, modelVersion));
  if (!set) return null;
  const frequent = await db
    .select({ prefix: calibrationPrefixes.prefix, prompts: calibrationPrefixes.prompts })
    .from(calibrationPrefixes)
    .where(eq(calibrationPrefixes.modelVersion, modelVersion))
    .orderBy(desc(calibrationPrefixes.prompts))
    .limit(top);
  return { ...set, top: frequent };
}
