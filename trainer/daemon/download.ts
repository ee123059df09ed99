/** What a job reads from the store: the serving version's weights (verified) and the clean dataset. */
import { decodeModel, type ModelFile } from "../../shared/model/file.js";
import type { ManifestVersion } from "../../shared/protocol/manifest.js";
import { fromJsonl, type Example } from "../data/index.js";
import { DaemonError } from "./errors.js";
import { sha256Hex, type ModelStoreClient } from "./s3.js";

/** The clean data: training examples and held-out prompts for the gates. */
export interface CleanData {
  train: Example[];
  heldOut: Example[];
}

/** Keys of the clean dataset under `prefix`. */
export function datasetKeys(prefix: string): { train: string; heldOut: string } {
  return { train: `${prefix}/train.jsonl`, heldOut: `${prefix}/held-out.jsonl` };
}

/** Downloads a manifest version's file and checks size, sha256 and config before decoding is trusted. */
export async function downloadModel(
  store: ModelStoreClient,
  entry: ManifestVersion,
): Promise<{ file: ModelFile; bytes: Uint8Array }> {
  const obj = await store.get(entry.key);
  if (!obj) throw new DaemonError("corrupt", `version ${entry.version}: ${entry.key} is missing from the store`);
  if (obj.bytes.byteLength !== entry.size)
    throw new DaemonError(
      "corrupt",
      `version ${entry.version}: ${entry.key} has ${obj.bytes.byteLength} bytes, manifest says ${entry.size}`,
    );
  const sha = sha256Hex(obj.bytes);
  if (sha !== entry.sha256)
    throw new DaemonError(
      "corrupt",
      `version ${entry.version}: ${entry.key} has sha256 ${sha}, manifest says ${entry.sha256}`,
    );
  let file: ModelFile;
  try {
    file = decodeModel(obj.bytes);
  } catch (e) {
    throw new DaemonError("corrupt", `version ${entry.version}: ${(e as Error).message}`);
  }
  if (JSON.stringify(file.config) !== JSON.stringify({ ...file.config, ...entry.config }))
    throw new DaemonError("corrupt", `version ${entry.version}: file config differs from the manifest's`);
  return { file, bytes: obj.bytes };
}

/** Downloads and parses `<prefix>/train.jsonl` and `<prefix>/held-out.jsonl`. */
export async function downloadDataset(store: ModelStoreClient, prefix: string): Promise<CleanData> {
  const keys = datasetKeys(prefix);
  const read = async (key: string): Promise<Example[]> => {
    const obj = await store.get(key);
    if (!obj)
      throw new DaemonError("corrupt", `clean dataset ${key} is missing from the store (seed it: npm start does)`);
    try {
      return fromJsonl(new TextDecoder().decode(obj.bytes));
    } catch (e) {
      throw new DaemonError("corrupt", `clean dataset ${key}: ${(e as Error).message}`);
    }
  };
  const [train, heldOut] = await Promise.all([read(keys.train), read(keys.heldOut)]);
  if (train.length === 0 || heldOut.length === 0)
    throw new DaemonError(
      "corrupt",
      `clean dataset under ${prefix} is empty (train ${train.length}, held out ${heldOut.length})`,
    );
  return { train, heldOut };
}
