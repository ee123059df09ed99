/**
 * Publishing a model version, in the order that keeps the store consistent:
 * 1. the weights under their immutable content address (`models/<sha256>.safetensors`);
 * 2. the manifest, conditionally on the one read, with the new version current and
 *    every earlier version kept. A manifest therefore never names a missing or partial
 *    file, and a job that publishes twice finds its version and writes nothing.
 */
import { decodeModel, type ModelFile } from "../model/file.js";
import type { ManifestVersion } from "../protocol/manifest.js";
import { StoreError } from "./errors.js";
import { modelKey } from "./keys.js";
import { readManifest, writeManifest } from "./manifest.js";
import { jobVersionId, nextVersionId, planPublish, type ManifestPlan, type PublishLineage } from "./plan.js";
import type { S3Bucket } from "./s3.js";
import { md5Base64, sha256Hex } from "./sha256.js";

/** How {@link putImmutable} found the content address. */
export type UploadOutcome =
  /** Nothing was there: uploaded. */
  | "uploaded"
  /** The same bytes were there (sha256 checked): nothing uploaded. */
  | "present"
  /** Other bytes were there (a corrupt or tampered object): overwritten with the right ones. */
  | "replaced";

/**
 * Stores `bytes` at their content address `key` (whose sha256 is `sha256`). An object
 * already there is kept only when its bytes hash to `sha256` (checked, not assumed from
 * its size); otherwise it is (over)written with Content-MD5 (the store refuses a body
 * corrupted on the way) and checked with a HEAD.
 */
export async function putImmutable(
  bucket: S3Bucket,
  key: string,
  bytes: Uint8Array,
  sha256: string,
): Promise<UploadOutcome> {
  const existing = await bucket.head(key);
  if (existing && existing.size === bytes.byteLength) {
    const stored = await bucket.getExactly(key, bytes.byteLength).catch((e: unknown) => {
      if (e instanceof StoreError && e.kind === "corrupt") return null; // changed size meanwhile: rewrite it
      throw e;
    });
    if (stored && sha256Hex(stored) === sha256) return "present";
  }
  await bucket.put(key, bytes, { contentMd5: md5Base64(bytes) });
  const after = await bucket.head(key);
  if (!after || after.size !== bytes.byteLength)
    throw new StoreError(
      "unavailable",
      `PUT ${key}: the store holds ${after ? `${after.size} bytes` : "nothing"}, expected ${bytes.byteLength}`,
    );
  return existing ? "replaced" : "uploaded";
}

/** What to publish. */
export interface PublishRequest extends PublishLineage {
  /** The model file; refused unless it decodes as a model (the Worker must be able to serve it). */
  bytes: Uint8Array;
  /** Version id; default `job<id>-<sha8>` for a job, else `v<n>-<sha8>` (see plan.ts). Must be new to the manifest. */
  version?: string;
  note?: string;
  metrics?: Record<string, number>;
  /** Called right before the manifest is written (the daemon renews and checks its lease there). */
  beforeManifestWrite?: () => Promise<void>;
  /** Manifest writes tried when another writer gets in between (default 4). */
  attempts?: number;
  now?: () => Date;
}

/** What publishing did. */
export type PublishResult =
  | { kind: "published"; entry: ManifestVersion; upload: UploadOutcome }
  | Exclude<ManifestPlan, { kind: "write" }>;

/**
 * Publishes `request.bytes` as the manifest's new current version (see the module
 * comment). Returns "already" when the job's version is in the manifest, "stale" when
 * the manifest no longer serves `request.base` (nothing is uploaded then). Throws
 * StoreError: "corrupt" (not a model file, a taken version id), "conflict" (the manifest
 * kept changing for `attempts` writes), "unavailable".
 */
export async function publishVersion(
  bucket: S3Bucket,
  manifestKey: string,
  request: PublishRequest,
): Promise<PublishResult> {
  const now = request.now ?? (() => new Date());
  const file = decodeForPublish(request.bytes);
  const sha256 = sha256Hex(request.bytes);
  const key = modelKey(sha256);
  const entryFor = (manifest: Parameters<typeof nextVersionId>[0]): ManifestVersion => ({
    version:
      request.version ??
      (request.jobId !== undefined ? jobVersionId(request.jobId, sha256) : nextVersionId(manifest, sha256)),
    key,
    sha256,
    size: request.bytes.byteLength,
    config: file.config,
    createdAt: now().toISOString(),
    ...(request.note ? { note: request.note } : {}),
    ...(request.metrics ? { metrics: request.metrics } : {}),
  });
  const lineage: PublishLineage = { base: request.base, jobId: request.jobId };

  const first = await readManifest(bucket, manifestKey);
  const early = planPublish(first?.manifest ?? null, entryFor(first?.manifest ?? null), lineage, now());
  if (early.kind !== "write") return early;
  const upload = await putImmutable(bucket, key, request.bytes, sha256);
  const attempts = request.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    const read = attempt === 1 ? first : await readManifest(bucket, manifestKey);
    const plan = planPublish(read?.manifest ?? null, entryFor(read?.manifest ?? null), lineage, now());
    if (plan.kind !== "write") return plan;
    await request.beforeManifestWrite?.();
    try {
      await writeManifest(bucket, manifestKey, plan.manifest, read?.etag ?? null);
      return { kind: "published", entry: plan.entry, upload };
    } catch (e) {
      if (!(e instanceof StoreError && e.kind === "conflict") || attempt >= attempts) throw e;
    }
  }
}

/** Decodes the file the way the Worker will; StoreError "corrupt" when it cannot. */
function decodeForPublish(bytes: Uint8Array): ModelFile {
  try {
    return decodeModel(bytes);
  } catch (e) {
    throw new StoreError("corrupt", `not a servable model file: ${(e as Error).message}`);
  }
}
