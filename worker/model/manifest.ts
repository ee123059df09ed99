/**
 * The manifest in the bucket: reading it (conditionally, by ETag), and the
 * operations the admin API calls: read, conditional write, one-call rollback.
 */
import type { Env } from "../env.js";
import { parseManifest, type ModelManifest } from "../../shared/protocol/manifest.js";
import { StoreError } from "./errors.js";
import { pointCurrentAt, type ManifestWithHistory } from "./rollback.js";
import { S3Bucket, s3ConfigFromEnv } from "./s3.js";

/** A manifest with the ETag it was read at (for conditional writes). */
export interface StoredManifest {
  manifest: ManifestWithHistory;
  etag: string | null;
}

/**
 * GETs and validates the manifest. With `ifNoneMatch`, returns "unchanged" when the
 * store answers 304. Throws StoreError: "not_found", "corrupt" (not JSON or not a
 * valid manifest), "unavailable".
 */
export async function fetchManifest(
  bucket: S3Bucket,
  key: string,
  ifNoneMatch?: string,
): Promise<StoredManifest | "unchanged"> {
  const res = await bucket.get(key, { ifNoneMatch });
  if (res.status === 304) return "unchanged";
  if (res.status === 404) throw new StoreError("not_found", `no manifest at ${key} in bucket ${bucket.config.bucket}`);
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

/** The Worker's bucket (validated settings). */
export function bucketFromEnv(env: Env): S3Bucket {
  return new S3Bucket(s3ConfigFromEnv(env));
}

/** Reads the current manifest and its ETag. */
export async function readManifest(env: Env): Promise<StoredManifest> {
  const read = await fetchManifest(bucketFromEnv(env), env.MANIFEST_KEY);
  if (read === "unchanged") throw new StoreError("unavailable", "store answered 304 to an unconditional GET");
  return read;
}

/**
 * Validates and writes `manifest`. With `ifMatch` (the ETag it was read at) the
 * write only happens if nobody changed the manifest since: the store enforces it
 * where it supports conditional PUT (AWS S3, R2); a HEAD just before narrows the
 * race where it does not (s3rver). Throws StoreError "conflict" when it changed.
 * Returns the new ETag.
 */
export async function writeManifest(
  env: Env,
  manifest: ModelManifest,
  options: { ifMatch?: string } = {},
): Promise<{ etag: string | null }> {
  return storeManifest(bucketFromEnv(env), env.MANIFEST_KEY, manifest, options);
}

/** {@link writeManifest} for a given bucket and key. */
export async function storeManifest(
  bucket: S3Bucket,
  key: string,
  manifest: ModelManifest,
  options: { ifMatch?: string } = {},
): Promise<{ etag: string | null }> {
  try {
    parseManifest(manifest);
  } catch (e) {
    throw new StoreError("corrupt", `refusing to write an invalid manifest: ${(e as Error).message}`);
  }
  if (options.ifMatch) {
    const etag = await bucket.head(key);
    if (etag !== options.ifMatch)
      throw new StoreError(
        "conflict",
        `manifest changed since it was read (ETag ${etag ?? "none"}, expected ${options.ifMatch})`,
      );
  }
  const etag = await bucket.put(key, JSON.stringify(manifest, null, 2), {
    contentType: "application/json",
    ifMatch: options.ifMatch,
  });
  return { etag };
}

/**
 * Points `current` at an earlier published `version` (conditional on the manifest
 * read), recording `note` in the manifest's history. Isolates pick it up at their
 * next check; call {@link checkModelNow} (worker/model/index.ts) to reload this one at once.
 */
export async function pointManifestAt(env: Env, version: string, note: string): Promise<StoredManifest> {
  const { manifest, etag } = await readManifest(env);
  const next = pointCurrentAt(manifest, version, note);
  const written = await writeManifest(env, next, { ifMatch: etag ?? undefined });
  return { manifest: next, etag: written.etag };
}
