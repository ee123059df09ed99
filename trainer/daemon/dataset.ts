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
  // Both reads run at once; a failure is reported in key order (train first), not in whichever order they finished.
  const settled = await Promise.allSettled([read(keys.train), read(keys.heldOut)]);
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  const [train, heldOut] = settled.map((r) => (r as PromiseFulfilledResult<Example[]>).value);
  if (train.length === 0 || heldOut.length === 0)
    throw new DaemonError(
      "corrupt",
      `clean dataset under ${prefix} is empty (train ${train.length}, held out ${heldOut.length})`,
    );
  return { train, heldOut };
}
