/**
 * From a manifest entry to a verified model file: the size (Content-Length, before
 * the body is read), the sha256, the safetensors decoding and the config are all
 * checked before anyone uses the weights.
 */
import type { GPTConfig } from "../model/config.js";
import { decodeModel, type ModelFile } from "../model/file.js";
import type { ManifestVersion } from "../protocol/manifest.js";
import { StoreError } from "./errors.js";
import type { S3Bucket } from "./s3.js";
import { sha256Hex } from "./sha256.js";

/**
 * Checks `bytes` against `entry` (size, sha256), decodes them and checks the file's
 * config against the manifest's. Throws StoreError "corrupt" naming the problem.
 */
export function verifyModelFile(entry: ManifestVersion, bytes: Uint8Array): ModelFile {
  if (bytes.byteLength !== entry.size)
    throw new StoreError(
      "corrupt",
      `model file ${entry.key} is ${bytes.byteLength} bytes, manifest says ${entry.size}`,
    );
  const digest = sha256Hex(bytes);
  if (digest !== entry.sha256)
    throw new StoreError("corrupt", `model file ${entry.key} has sha256 ${digest}, manifest says ${entry.sha256}`);
  try {
    const file = decodeModel(bytes);
    const mismatch = (Object.keys(entry.config) as (keyof GPTConfig)[]).filter(
      (k) => file.config[k] !== entry.config[k],
    );
    if (mismatch.length) throw new Error(`its config differs from the manifest's in ${mismatch.join(", ")}`);
    return file;
  } catch (e) {
    throw new StoreError(
      "corrupt",
      `model file ${entry.key} of version ${entry.version} cannot be served: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/**
 * Downloads the file of `entry` and verifies it ({@link verifyModelFile}); a body whose
 * Content-Length disagrees with the manifest is refused before it is read. Throws
 * StoreError: "not_found" (the file is missing), "corrupt", "unavailable".
 */
export async function downloadModelFile(
  bucket: S3Bucket,
  entry: ManifestVersion,
): Promise<{ file: ModelFile; bytes: Uint8Array<ArrayBuffer> }> {
  const bytes = await bucket.getExactly(entry.key, entry.size);
  if (!bytes)
    throw new StoreError("not_found", `model file ${entry.key} of version ${entry.version} is missing from the store`);
  return { file: verifyModelFile(entry, bytes), bytes };
}
