/**
 * The manifest in the bucket: reading it (optionally conditional on its ETag) and
 * writing it, always conditionally on what the writer read.
 */
import { parseManifest, type ModelManifest } from "../protocol/manifest.js";
import { StoreError } from "./errors.js";
import type { ManifestWithHistory } from "./rollback.js";
import type { S3Bucket } from "./s3.js";

/** A manifest with the ETag it was read at (for the conditional write). */
export interface StoredManifest {
  manifest: ManifestWithHistory;
  etag: string | null;
}

/** Reads and validates the manifest; null when there is none. Throws StoreError "corrupt" or "unavailable". */
export function readManifest(bucket: S3Bucket, key: string): Promise<StoredManifest | null>;
/** With `ifNoneMatch` (the ETag last read), "unchanged" when the store answers 304. */
export function readManifest(
  bucket: S3Bucket,
  key: string,
  ifNoneMatch: string | undefined,
): Promise<StoredManifest | "unchanged" | null>;
export async function readManifest(
  bucket: S3Bucket,
  key: string,
  ifNoneMatch?: string,
): Promise<StoredManifest | "unchanged" | null> {
  const res = await bucket.get(key, { ifNoneMatch });
  if (res.status === 304) return "unchanged";
  if (res.status === 404) return null;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(res.body));
  } catch (e) {
    throw new StoreError("corrupt", `manifest ${key} is not JSON: ${(e as Error).message}`);
  }
  try {
    return { manifest: parseManifest(json), etag: res.etag };
  } catch (e) {
    throw new StoreError("corrupt", `manifest ${key} is invalid: ${(e as Error).message}`);
  }
}

/**
 * Validates and writes `manifest` only if the manifest is still the one read: `expected`
 * is the ETag it was read at, or null when there was none (then it is only created if
 * still absent). The PUT carries If-Match / If-None-Match: *, which AWS S3 and R2 enforce;
 * a HEAD just before narrows the race on stores that ignore them (s3rver). Throws
 * StoreError "conflict" when the manifest changed, "corrupt" for an invalid manifest.
 * Returns the new ETag.
 */
export async function writeManifest(
  bucket: S3Bucket,
  key: string,
  manifest: ModelManifest,
  expected: string | null,
): Promise<{ etag: string | null }> {
  try {
    parseManifest(manifest);
  } catch (e) {
    throw new StoreError("corrupt", `refusing to write an invalid manifest: ${(e as Error).message}`);
  }
  const now = await bucket.head(key);
  if ((now?.etag ?? null) !== expected || (now !== null && expected === null))
    throw new StoreError(
      "conflict",
      `manifest changed since it was read (ETag ${now ? (now.etag ?? "none") : "absent"}, expected ${expected ?? "absent"})`,
    );
  const etag = await bucket.put(key, JSON.stringify(manifest, null, 2), {
    contentType: "application/json",
    condition: expected === null ? { ifNoneMatch: "*" } : { ifMatch: expected },
  });
  return { etag };
}
