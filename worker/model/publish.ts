/**
 * Publishing a model version: upload the file under its content address, then add
 * it to the manifest and make it current (a conditional write on the manifest read).
 * Used by the local-dev CLI (worker/dev/publish.ts) and usable by any publisher.
 */
import type { GPTConfig } from "../../shared/model/config.js";
import { decodeModel } from "../../shared/model/file.js";
import type { ManifestVersion, ModelManifest } from "../../shared/protocol/manifest.js";
import { StoreError } from "./errors.js";
import { sha256Hex } from "./load.js";
import { fetchManifest, storeManifest } from "./manifest.js";
import type { S3Bucket } from "./s3.js";

/** What to record about the new version. */
export interface PublishOptions {
  /** Version id; default `v<n>-<sha256[0:8]>`. Must be new to the manifest. */
  version?: string;
  note?: string;
  metrics?: Record<string, number>;
}

/**
 * Validates `bytes` as a model file, uploads it to `models/<sha256>.safetensors`
 * (skipped when already there), and writes the manifest with the new version as
 * `current` (parent: the previous current). Throws StoreError ("corrupt" for a bad
 * file or a taken version id, "conflict" when the manifest changed meanwhile).
 */
export async function publishModel(
  bucket: S3Bucket,
  manifestKey: string,
  bytes: Uint8Array<ArrayBuffer>,
  options: PublishOptions = {},
  now: Date = new Date(),
): Promise<{ manifest: ModelManifest; entry: ManifestVersion }> {
  let config: GPTConfig;
  try {
    config = decodeModel(bytes).config;
  } catch (e) {
    throw new StoreError("corrupt", `not a servable model file: ${(e as Error).message}`);
  }
  const sha256 = await sha256Hex(bytes);
  const key = `models/${sha256}.safetensors`;
  if ((await bucket.head(key)) === null) await bucket.put(key, bytes);

  let previous: { manifest: ModelManifest; etag: string | null } | undefined;
  try {
    const read = await fetchManifest(bucket, manifestKey);
    if (read !== "unchanged") previous = read;
  } catch (e) {
    if (!(e instanceof StoreError && e.kind === "not_found")) throw e;
  }
  const versions = previous?.manifest.versions ?? [];
  const version = options.version ?? `v${versions.length + 1}-${sha256.slice(0, 8)}`;
  if (versions.some((v) => v.version === version))
    throw new StoreError("corrupt", `version ${JSON.stringify(version)} is already in the manifest`);
  const entry: ManifestVersion = {
    version,
    key,
    sha256,
    size: bytes.byteLength,
    config,
    createdAt: now.toISOString(),
    ...(previous ? { parent: previous.manifest.current } : {}),
    ...(options.note ? { note: options.note } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  };
  const manifest: ModelManifest = {
    ...(previous?.manifest ?? { format: "sande-manifest/1" }),
    current: version,
    versions: [...versions, entry],
    updatedAt: now.toISOString(),
  };
  await storeManifest(bucket, manifestKey, manifest, { ifMatch: previous?.etag ?? undefined });
  return { manifest, entry };
}
