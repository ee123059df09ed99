/** The clean dataset a job reads from the store (the weights come through shared/store's downloadModelFile). */
import { datasetKeys, type S3Bucket } from "../../shared/store/index.js";
import { fromJsonl, type Example } from "../data/index.js";
import { DaemonError } from "./errors.js";

/** The clean data: training examples and held-out prompts for the gates. */
export interface CleanData {
  train: Example[];
  heldOut: Example[];
}

/** Downloads and parses `<prefix>/train.jsonl` and `<prefix>/held-out.jsonl`. */
export async function downloadDataset(bucket: S3Bucket, prefix: string): Promise<CleanData> {
  const keys = datasetKeys(prefix);
  const read = async (key: string): Promise<Example[]> => {
    const obj = await bucket.get(key);
    if (obj.status !== 200)
      throw new DaemonError("corrupt", `clean dataset ${key} is missing from the store (seed it: npm start does)`);
    try {
      return fromJsonl(new TextDecoder().decode(obj.body));
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
