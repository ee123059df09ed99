/**
 * The manifest edit a publish makes (pure). Idempotent by job: a version records
 * the job that made it (`metrics.jobId`), so a job retried after its trainer died
 * between the manifest write and the job's completion finds its version instead of
 * publishing another, and publishing the same result twice changes nothing.
 */
import type { ManifestVersion, ModelManifest } from "../../shared/protocol/manifest.js";

/** What to do with the manifest. */
export type ManifestPlan =
  /** Write this manifest (the new version appended and current). */
  | { kind: "write"; manifest: ModelManifest }
  /** This job's version is already in the manifest: nothing to write. */
  | { kind: "already"; entry: ManifestVersion }
  /** The manifest serves another version than the one the job healed: the result is stale. */
  | { kind: "stale"; current: string };

/** The version id a job's result gets: `job<id>-<sha256[0:8]>`. */
export function jobVersionId(jobId: number, sha256: string): string {
  return `job${jobId}-${sha256.slice(0, 8)}`;
}

/** The version a job already published, if any. */
export function findJobVersion(manifest: ModelManifest | null, jobId: number): ManifestVersion | undefined {
  return manifest?.versions.find((v) => v.metrics?.jobId === jobId);
}

/**
 * Plans the manifest update publishing `entry` (healed from version `base`) for job
 * `jobId`. Previous versions are kept, in order, for rollback; other fields (the
 * rollback history) are carried over.
 */
export function planManifest(
  manifest: ModelManifest | null,
  base: string,
  entry: ManifestVersion,
  jobId: number,
  now: Date,
): ManifestPlan {
  const mine = findJobVersion(manifest, jobId);
  if (mine) return { kind: "already", entry: mine };
  if (!manifest) return { kind: "stale", current: "(no manifest)" };
  if (manifest.current !== base) return { kind: "stale", current: manifest.current };
  if (manifest.versions.some((v) => v.version === entry.version))
    throw new Error(`version ${entry.version} is already in the manifest without job ${jobId}`);
  const added: ManifestVersion = { ...entry, parent: base, metrics: { ...entry.metrics, jobId } };
  return {
    kind: "write",
    manifest: {
      ...manifest,
      current: added.version,
      versions: [...manifest.versions, added],
      updatedAt: now.toISOString(),
    },
  };
}
