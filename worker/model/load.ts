/**
 * From a manifest entry to a model ready to serve: the store downloads and verifies the
 * file (size before the body is read, sha256, decoding, config: shared/store), then the
 * tokenizer and the inference model are built.
 */
import { GPTInference } from "../../shared/inference/index.js";
import type { GPTConfig } from "../../shared/model/config.js";
import type { ModelFile } from "../../shared/model/file.js";
import type { ManifestVersion } from "../../shared/protocol/manifest.js";
import { downloadModelFile, StoreError, verifyModelFile, type S3Bucket } from "../../shared/store/index.js";
import { tokenizerByName, type Tokenizer } from "../../shared/tokenizer/index.js";

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
  const { file } = await downloadModelFile(bucket, entry);
  return serveable(entry, file, now);
}

/** Verifies `bytes` against `entry` (size, sha256, config) and builds the model. Throws StoreError "corrupt". */
export async function buildModel(entry: ManifestVersion, bytes: Uint8Array, now = Date.now()): Promise<LoadedModel> {
  return serveable(entry, verifyModelFile(entry, bytes), now);
}

function serveable(entry: ManifestVersion, file: ModelFile, now: number): LoadedModel {
  try {
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
