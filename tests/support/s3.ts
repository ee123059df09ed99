/**
 * A real S3 API for tests and benches: s3rver on 127.0.0.1 (random free port,
 * temp dir), plus helpers that put models and manifests in it through the store's S3 client.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { preset, type GPTConfig } from "../../shared/model/config.js";
import { encodeModel } from "../../shared/model/file.js";
import { initWeights } from "../../shared/model/weights.js";
import type { ManifestVersion, ModelManifest } from "../../shared/protocol/manifest.js";
import { modelKey, S3Bucket, sha256Hex } from "../../shared/store/index.js";

export const TEST_BUCKET = "sande";
export const TEST_MANIFEST_KEY = "manifest.json";
/** s3rver's built-in credentials. */
export const S3RVER_KEY = "S3RVER";

/** A running s3rver; `stop()`/`start()` simulate an outage (same port, same data). */
export interface LocalS3 {
  endpoint: string;
  port: number;
  bucket: S3Bucket;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

/** Starts s3rver with an empty bucket `sande`. */
export async function startLocalS3(): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), "sande-s3rver-"));
  let server: S3rver | undefined = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: TEST_BUCKET }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const bucket = new S3Bucket({
    endpoint,
    region: "us-east-1",
    bucket: TEST_BUCKET,
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
    timeoutMs: 10_000,
  });
  return {
    endpoint,
    port,
    bucket,
    async stop() {
      await server?.close();
      server = undefined;
    },
    async start() {
      server = new S3rver({
        address: "127.0.0.1",
        port,
        silent: true,
        directory,
        configureBuckets: [{ name: TEST_BUCKET }],
      });
      await server.run();
    },
    async dispose() {
      await server?.close().catch(() => undefined);
      server = undefined;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * A tiny random model file (fast to load). `sharpen` scales the weights so that
 * greedy decoding is decisive (near-uniform logits otherwise).
 */
export function tinyModelFile(seed: number, config: GPTConfig = preset("tiny"), sharpen = 15): Uint8Array<ArrayBuffer> {
  const weights = initWeights(config, seed);
  for (const [name, t] of weights)
    if (!name.includes("ln_")) for (let i = 0; i < t.data.length; i++) t.data[i] *= sharpen;
  return encodeModel({
    config,
    tokenizer: "byte",
    weights,
    metadata: { "sande.test_seed": String(seed) },
  }) as Uint8Array<ArrayBuffer>;
}

/** Uploads `bytes` under its content address (unconditionally, as a fixture) and returns the manifest entry for it. */
export async function uploadModel(
  bucket: S3Bucket,
  bytes: Uint8Array<ArrayBuffer>,
  version: string,
  config: GPTConfig,
  extra: Partial<ManifestVersion> = {},
): Promise<ManifestVersion> {
  const sha256 = sha256Hex(bytes);
  const key = modelKey(sha256);
  await bucket.put(key, bytes);
  return { version, key, sha256, size: bytes.byteLength, config, createdAt: new Date().toISOString(), ...extra };
}

/** Writes a manifest listing `versions`, serving `current` (default: the last); unconditionally, as a fixture. */
export async function putManifest(
  bucket: S3Bucket,
  versions: ManifestVersion[],
  current = versions[versions.length - 1].version,
): Promise<ModelManifest> {
  const manifest: ModelManifest = {
    format: "sande-manifest/1",
    current,
    versions,
    updatedAt: new Date().toISOString(),
  };
  await bucket.put(TEST_MANIFEST_KEY, JSON.stringify(manifest), { contentType: "application/json" });
  return manifest;
}
