/**
 * Rolling back: point `current` at another published version (a pure edit that keeps a
 * short audit trail inside the manifest), written conditionally on the manifest read.
 */
import type { ModelManifest } from "../protocol/manifest.js";
import { StoreError } from "./errors.js";
import { readManifest, writeManifest, type StoredManifest } from "./manifest.js";
import type { S3Bucket } from "./s3.js";

/** One operator change of `current`, kept in the manifest's optional `history`. */
export interface ManifestChange {
  at: string;
  action: "rollback";
  from: string;
  to: string;
  note: string;
}

/** A manifest with the optional audit trail (readers that do not know it ignore it). */
export type ManifestWithHistory = ModelManifest & { history?: ManifestChange[] };

/** Most history entries kept. */
export const MAX_HISTORY = 100;

/**
 * A copy of `manifest` serving `version` (an entry of `versions`), with the change
 * recorded. Throws StoreError "not_found" when no such version was published.
 */
export function pointCurrentAt(
  manifest: ManifestWithHistory,
  version: string,
  note: string,
  now: Date = new Date(),
): ManifestWithHistory {
  if (!manifest.versions.some((v) => v.version === version)) {
    throw new StoreError(
      "not_found",
      `version ${JSON.stringify(version)} is not in the manifest (known: ${manifest.versions.map((v) => v.version).join(", ")})`,
    );
  }
  const at = now.toISOString();
  const change: ManifestChange = { at, action: "rollback", from: manifest.current, to: version, note };
  return {
    ...manifest,
    current: version,
    updatedAt: at,
    history: [...(manifest.history ?? []), change].slice(-MAX_HISTORY),
  };
}

/**
 * Reads the manifest at `key`, points it at `version` and writes it back only if nobody
 * changed it meanwhile (If-Match on the ETag read). Throws StoreError: "not_found" (no
 * manifest, or no such version), "conflict" (it changed: read again and retry),
 * "unavailable" (the store, or a manifest read without an ETag: an unconditional write
 * could undo someone else's, so it is refused).
 */
export async function rollbackManifest(
  bucket: S3Bucket,
  key: string,
  version: string,
  note: string,
  now: Date = new Date(),
): Promise<StoredManifest> {
  const read = await readManifest(bucket, key);
  if (!read) throw new StoreError("not_found", `no manifest at ${key} in bucket ${bucket.config.bucket}`);
  const next = pointCurrentAt(read.manifest, version, note, now);
  if (read.etag === null)
    throw new StoreError(
      "unavailable",
      `the store returned manifest ${key} without an ETag, so a rollback cannot be a conditional write; refusing to write it unconditionally`,
    );
  const written = await writeManifest(bucket, key, next, read.etag);
  return { manifest: next, etag: written.etag };
}
