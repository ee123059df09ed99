/**
 * The Worker's view of the store's manifest: its bucket from the environment, and the
 * operations the admin API calls (read, rollback). Reading, writing and the rollback
 * edit themselves are shared/store's.
 */
import {
  readManifest as readStoredManifest,
  rollbackManifest,
  S3Bucket,
  s3ConfigFromVars,
  StoreError,
  type StoredManifest,
} from "../../shared/store/index.js";
import type { Env } from "../env.js";

/** The Worker's bucket (validated settings; StoreError "config" otherwise). */
export function bucketFromEnv(env: Env): S3Bucket {
  return new S3Bucket(s3ConfigFromVars(env));
}

/** Reads the current manifest and its ETag. Throws StoreError "not_found" when there is none. */
export async function readManifest(env: Env): Promise<StoredManifest> {
  const bucket = bucketFromEnv(env);
  const read = await readStoredManifest(bucket, env.MANIFEST_KEY);
  if (!read) throw new StoreError("not_found", `no manifest at ${env.MANIFEST_KEY} in bucket ${bucket.config.bucket}`);
  return read;
}

/**
 * Points `current` at an earlier published `version` (conditional on the manifest
 * read), recording `note` in the manifest's history. Isolates pick it up at their
 * next check; call {@link checkModelNow} (worker/model/index.ts) to reload this one at once.
 */
export function pointManifestAt(env: Env, version: string, note: string): Promise<StoredManifest> {
  return rollbackManifest(bucketFromEnv(env), env.MANIFEST_KEY, version, note);
}
