import { desc, sql } from "drizzle-orm";
import type { ManifestVersion } from "../../shared/protocol/manifest.js";
import type { Database } from "./index.js";
import { calibrationSets, modelVersions } from "./schema.js";

/** A model version as the admin API shows it. */
export interface VersionView {
  version: string;
  parent: string | null;
  note: string | null;
  metrics: Record<string, number> | null;
  firstSeen: number;
  lastSeen: number;
  /** Prompts in its calibration set (0: none, the recurrence detector uses its default frequency). */
  calibrationPrompts: number;
}

/** Versions, most recently seen first, with their calibration size. */
export async function listVersions(db: Database, limit: number): Promise<VersionView[]> {
  const rows = await db
    .select({ v: modelVersions, calibrationPrompts: sql<number>`coalesce(${calibrationSets.prompts}, 0)` })
    .from(modelVersions)
    .leftJoin(calibrationSets, sql`${calibrationSets.modelVersion} = ${modelVersions.version}`)
    .orderBy(desc(modelVersions.lastSeen), desc(modelVersions.firstSeen))
    .limit(limit);
  return rows.map(({ v, calibrationPrompts }) => ({
    version: v.version,
    parent: v.parent,
    note: v.note,
    metrics: v.metrics ? (JSON.parse(v.metrics) as Record<string, number>) : null,
    firstSeen: v.firstSeen,
    lastSeen: v.lastSeen,
    calibrationPrompts,
  }));
}

/** Records (or completes) a version's entry: parent, note and metrics fill in what is unknown. */
export async function recordVersion(
  db: Database,
  v: { version: string; parent?: string; note?: string; metrics?: Record<string, number>; at: number },
): Promise<void> {
  await db
    .insert(modelVersions)
    .values({
      version: v.version,
      parent: v.parent ?? null,
      note: v.note ?? null,
      metrics: v.metrics ? JSON.stringify(v.metrics) : null,
      firstSeen: v.at,
      lastSeen: v.at,
    })
    .onConflictDoUpdate({
      target: modelVersions.version,
      set: {
        parent: sql`coalesce(${modelVersions.parent}, excluded.parent)`,
        note: sql`coalesce(${modelVersions.note}, excluded.note)`,
        metrics: sql`coalesce(excluded.metrics, ${modelVersions.metrics})`,
      },
    });
}

/** Mirrors the manifest's published versions (after a rollback, the admin API reads it anyway). */
export async function mirrorManifestVersions(db: Database, versions: readonly ManifestVersion[]): Promise<void> {
  for (const v of versions) {
    const at = Date.parse(v.createdAt);
    await recordVersion(db, {
      version: v.version,
      parent: v.parent,
      note: v.note,
      metrics: v.metrics,
      at: Number.isFinite(at) ? at : Date.now(),
    });
  }
}
