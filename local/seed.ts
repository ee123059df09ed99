/**
 * First-run seeding of the model store: the model to serve as the manifest's first
 * version, and the clean dataset the trainer heals with. Skipped when a manifest exists.
 */
import { currentVersion } from "../shared/protocol/manifest.js";
import {
  datasetKeys,
  DEFAULT_MANIFEST_KEY,
  downloadModelFile,
  publishVersion,
  readManifest,
  S3Bucket,
  StoreError,
} from "../shared/store/index.js";
import { toJsonl, type Example } from "../trainer/data/index.js";

/** Where and what to seed. */
export interface SeedRequest {
  endpoint: string;
  bucket: string;
  manifestKey: string;
  datasetPrefix: string;
  /** The model file, read only when seeding. */
  model: () => Uint8Array;
  version: string;
  note: string;
  train: readonly Example[];
  heldOut: readonly Example[];
}

/** s3rver's built-in credentials. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/** The local bucket through the store's S3 client, with s3rver's keys. */
export function localBucket(endpoint: string, bucket: string): S3Bucket {
  return new S3Bucket({ endpoint, region: "us-east-1", bucket, ...S3RVER_CREDENTIALS });
}

/** The bytes of the version the manifest serves (verified against the manifest). */
export async function currentModelBytes(
  endpoint: string,
  bucket: string,
  manifestKey = DEFAULT_MANIFEST_KEY,
): Promise<{ version: string; bytes: Uint8Array }> {
  const b = localBucket(endpoint, bucket);
  const read = await readManifest(b, manifestKey);
  if (!read) throw new StoreError("not_found", `no manifest in ${endpoint}/${bucket}`);
  const entry = currentVersion(read.manifest);
  const { bytes } = await downloadModelFile(b, entry);
  return { version: entry.version, bytes };
}

/** Seeds the store unless it already has a manifest; returns what it found or wrote. */
export async function seedStore(request: SeedRequest): Promise<{ seeded: boolean; current: string }> {
  const bucket = localBucket(request.endpoint, request.bucket);
  const existing = await readManifest(bucket, request.manifestKey);
  if (existing) return { seeded: false, current: existing.manifest.current };
  const keys = datasetKeys(request.datasetPrefix);
  await bucket.put(keys.train, toJsonl(request.train), { contentType: "application/x-ndjson" });
  await bucket.put(keys.heldOut, toJsonl(request.heldOut), { contentType: "application/x-ndjson" });
  const published = await publishVersion(bucket, request.manifestKey, {
    bytes: request.model(),
    version: request.version,
    note: request.note,
  });
  if (published.kind !== "published")
    throw new StoreError("conflict", `seeding did not publish ${request.version}: ${published.kind}`);
  return { seeded: true, current: published.entry.version };
}
