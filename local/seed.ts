/**
 * First-run seeding of the model store: the model to serve as the manifest's first
 * version, and the clean dataset the trainer heals with. Skipped when a manifest exists.
 */
import { currentVersion, parseManifest } from "../shared/protocol/manifest.js";
import { publishModel } from "../worker/model/publish.js";
import { S3Bucket } from "../worker/model/s3.js";
import { toJsonl, type Example } from "../trainer/data/index.js";
import { datasetKeys } from "../trainer/daemon/download.js";

/** Where and what to seed. */
export interface SeedRequest {
  endpoint: string;
  bucket: string;
  manifestKey: string;
  datasetPrefix: string;
  /** The model file, read only when seeding. */
  model: () => Uint8Array<ArrayBuffer>;
  version: string;
  note: string;
  train: readonly Example[];
  heldOut: readonly Example[];
}

/** s3rver's built-in credentials. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/** The bucket through the Worker's S3 client, with s3rver's keys. */
export function localBucket(endpoint: string, bucket: string): S3Bucket {
  return new S3Bucket({ endpoint, region: "us-east-1", bucket, ...S3RVER_CREDENTIALS });
}

/** The bytes of the version the manifest serves. */
export async function currentModelBytes(
  endpoint: string,
  bucket: string,
  manifestKey = "manifest.json",
): Promise<{ version: string; bytes: Uint8Array }> {
  const b = localBucket(endpoint, bucket);
  const m = await b.get(manifestKey);
  if (m.status !== 200) throw new Error(`no manifest in ${endpoint}/${bucket}`);
  const manifest = parseManifest(JSON.parse(new TextDecoder().decode(m.body)));
  const entry = currentVersion(manifest);
  const file = await b.get(entry.key);
  if (file.status !== 200) throw new Error(`${entry.key} is missing from ${endpoint}/${bucket}`);
  return { version: entry.version, bytes: new Uint8Array(file.body) };
}

/** Seeds the store unless it already has a manifest; returns what it found or wrote. */
export async function seedStore(request: SeedRequest): Promise<{ seeded: boolean; current: string }> {
  const bucket = localBucket(request.endpoint, request.bucket);
  const existing = await bucket.get(request.manifestKey);
  if (existing.status === 200)
    return {
      seeded: false,
      current: (JSON.parse(new TextDecoder().decode(existing.body)) as { current: string }).current,
    };
  const keys = datasetKeys(request.datasetPrefix);
  await bucket.put(keys.train, toJsonl(request.train), { contentType: "application/x-ndjson" });
  await bucket.put(keys.heldOut, toJsonl(request.heldOut), { contentType: "application/x-ndjson" });
  const { entry } = await publishModel(bucket, request.manifestKey, request.model(), {
    version: request.version,
    note: request.note,
  });
  return { seeded: true, current: entry.version };
}
