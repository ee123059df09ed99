/**
 * The bucket's layout: the manifest, model files under their content address, and
 * the clean dataset the trainer heals with.
 */

/** Default key of the manifest. */
export const DEFAULT_MANIFEST_KEY = "manifest.json";

/** Default key prefix of the clean dataset. */
export const DEFAULT_DATASET_PREFIX = "datasets/clean";

/** The content address of a model file: `models/<sha256>.safetensors`. Throws on anything but 64 hex digits. */
export function modelKey(sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`a model key needs a hex sha256, got ${JSON.stringify(sha256)}`);
  return `models/${sha256}.safetensors`;
}

/** Keys of the clean dataset under `prefix`: `<prefix>/train.jsonl` and `<prefix>/held-out.jsonl`. */
export function datasetKeys(prefix: string): { train: string; heldOut: string } {
  const p = prefix.replace(/\/+$/, "");
  if (!p) throw new Error("the dataset prefix is empty");
  return { train: `${p}/train.jsonl`, heldOut: `${p}/held-out.jsonl` };
}
