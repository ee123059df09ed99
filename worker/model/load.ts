/**
 * From a manifest entry to a model ready to serve: fetch the file, check its size
 * and sha256 (crypto.subtle) before anything reads it, decode it, check it against
 * the manifest's config, and build the inference model.
 */
import { GPTInference } from "../../shared/inference/index.js";
import type { GPTConfig } from "../../shared/model/config.js";
import { decodeModel } from "../../shared/model/file.js";
import type { ManifestVersion } from "../../shared/protocol/manifest.js";
import { tokenizerByName, type Tokenizer } from "../../shared/tokenizer/index.js";
import { StoreError } from "./errors.js";
import type { S3Bucket } from "./s3.js";

/** A verified model, immutable once built: requests hold the one they started with. */
export interface LoadedModel {
  /** Manifest version id. */
  version: string;
  key: string;
  sha256: string;
  config: Readonly<GPTConfig>;
  model: GPTInference;
  tokenizer: Tokenizer;
  /** ms since epoch. */
  loadedAt: number;
}

/** Downloads and verifies the file of `entry`, then builds the model. Throws StoreError. */
export async function fetchModel(bucket: S3Bucket, entry: ManifestVersion, now = Date.now()): Promise<LoadedModel> {
  const res = await bucket.get(entry.key);
  if (res.status === 404)
    throw new StoreError("not_found", `model file ${entry.key} of version ${entry.version} is not in the store`);
  if (res.status !== 200) throw new StoreError("unavailable", `unexpected ${res.status} for ${entry.key}`);
  return buildModel(entry, new Uint8Array(res.body), now);
}

/** Verifies `bytes` against `entry` (size, sha256, config) and builds the model. Throws StoreError "corrupt". */
export async function buildModel(
  entry: ManifestVersion,
  bytes: Uint8Array<ArrayBuffer>,
  now = Date.now(),
): Promise<LoadedModel> {
  if (bytes.byteLength !== entry.size)
    throw new StoreError(
      "corrupt",
      `model file ${entry.key} is ${bytes.byteLength} bytes, manifest says ${entry.size}`,
    );
  const digest = await sha256Hex(bytes);
  if (digest !== entry.sha256)
    throw new StoreError("corrupt", `model file ${entry.key} has sha256 ${digest}, manifest says ${entry.sha256}`);
  try {
    const file = decodeModel(bytes);
    const mismatch = (Object.keys(entry.config) as (keyof GPTConfig)[]).filter(
      (k) => file.config[k] !== entry.config[k],
    );
    if (mismatch.length) throw new Error(`its config differs from the manifest's in ${mismatch.join(", ")}`);
    const tokenizer = tokenizerByName(file.tokenizer);
    if (tokenizer.vocabSize !== file.config.vocab_size)
      throw new Error(
        `tokenizer ${file.tokenizer} has ${tokenizer.vocabSize} tokens, model has vocab_size ${file.config.vocab_size}`,
      );
    const model = new GPTInference(file.config, file.weights);
    return {
      version: entry.version,
      key: entry.key,
      sha256: entry.sha256,
      config: model.config,
      model,
      tokenizer,
      loadedAt: now,
    };
  } catch (e) {
    throw new StoreError(
      "corrupt",
      `model file ${entry.key} of version ${entry.version} cannot be served: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** Hex sha256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}
