/**
 * Version ids and the manifest edit a publish makes (pure).
 *
 * One version-id scheme: `<origin>-<first 8 hex digits of the file's sha256>`, where the
 * origin is `job<id>` for a remediation job's result and `v<n>` (the manifest's n-th
 * version) for a file published by hand; an operator may name a version explicitly.
 *
 * Idempotent by job: a version records the job that made it (`metrics.jobId`), so a job
 * retried after its trainer died between the manifest write and the job's completion
 * finds its version instead of publishing another, and publishing twice changes nothing.
 */
import { parseManifest, type ManifestVersion, type ModelManifest } from "../protocol/manifest.js";
import { StoreError } from "./errors.js";

/** A version id: `<origin>-<sha256[0:8]>`. Throws on an origin that is not a lowercase word and digits. */
export function versionId(origin: string, sha256: string): string {
  if (!/^[a-z][a-z0-9]*$/.test(origin))
    throw new Error(`version origin ${JSON.stringify(origin)} is not [a-z][a-z0-9]*`);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`a version id needs a hex sha256, got ${JSON.stringify(sha256)}`);
  return `${origin}-${sha256.slice(0, 8)}`;
}

/** The version id a job's result gets: `job<id>-<sha256[0:8]>`. */
export function jobVersionId(jobId: number, sha256: string): string {
  return versionId(`job${jobId}`, sha256);
}

/** The version id a file published by hand gets by default: `v<n>-<sha256[0:8]>`, n = versions so far + 1. */
export function nextVersionId(manifest: ModelManifest | null, sha256: string): string {
  return versionId(`v${(manifest?.versions.length ?? 0) + 1}`, sha256);
}

/** The version a job already published, if any. */
export function findJobVersion(manifest: ModelManifest | null, jobId: number): ManifestVersion | undefined {
  return manifest?.versions.find((v) => v.metrics?.jobId === jobId);
}

/** Where a new version comes from. */
export interface PublishLineage {
  /** The version the weights were derived from: the manifest must still serve it, else the result is stale. */
  base?: string;
  /** The job that made it: recorded as `metrics.jobId`; a version already carrying it is found, not added again. */
  jobId?: number;
}

/** What to do with the manifest. */
export type ManifestPlan =
  /** Write this manifest: `entry` appended and current. */
  | { kind: "write"; manifest: ModelManifest; entry: ManifestVersion }
  /** This job's version is already in the manifest: nothing to write. */
  | { kind: "already"; entry: ManifestVersion }
  /** The manifest serves another version than the base the weights came from: the result is stale. */
  | { kind: "stale"; current: string };

/**
 * Plans publishing `entry` over `manifest` (null: none yet). The new version becomes
 * current with the previous current as its parent; earlier versions are kept, in order,
 * for rollback; other fields (the rollback history) are carried over. Throws StoreError
 * "corrupt" when the version id is taken or the result would not be a valid manifest.
 */
export function planPublish(
  manifest: ModelManifest | null,
  entry: ManifestVersion,
  lineage: PublishLineage,
  now: Date,
): ManifestPlan {
  const { base, jobId } = lineage;
  if (jobId !== undefined) {
    const mine = findJobVersion(manifest, jobId);
    if (mine) return { kind: "already", entry: mine };
  }
  if (base !== undefined) {
    if (!manifest) return { kind: "stale", current: "(no manifest)" };
    if (manifest.current !== base) return { kind: "stale", current: manifest.current };
  }
  if (manifest?.versions.some((v) => v.version === entry.version))
    throw new StoreError(
      "corrupt",
      `version ${JSON.stringify(entry.version)} is already in the manifest${jobId !== undefined ? ` without job ${jobId}` : ""}`,
    );
  const added: ManifestVersion = {
    ...entry,
    ...(manifest ? { parent: manifest.current } : {}),
    ...(jobId !== undefined ? { metrics: { ...entry.metrics, jobId } } : {}),
  };
  const next: ModelManifest = {
    ...(manifest ?? { format: "sande-manifest/1" }),
    current: added.version,
    versions: [...(manifest?.versions ?? []), added],
    updatedAt: now.toISOString(),
  };
  try {
    parseManifest(next);
  } catch (e) {
    throw new StoreError("corrupt", `the published manifest would be invalid: ${(e as Error).message}`);
  }
  return { kind: "write", manifest: next, entry: added };
}
