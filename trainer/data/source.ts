import { readFile } from "node:fs/promises";
import { loadAlpaca } from "./alpaca.js";
import { generateDataset, type Dataset } from "./dataset.js";
import { fromJsonl } from "./jsonl.js";
import { Rng } from "./random.js";

/** Where clean data comes from: the built-in synthetic tasks or a user's file. */
export interface DataSourceOptions {
  /** "synthetic", or the path of an Alpaca JSON/JSONL file or one of our JSONL datasets. */
  data: string;
  seed: number;
  trainSize: number;
  heldOutSize: number;
}

/**
 * Loads train and held-out examples. Synthetic data is generated from the seed;
 * a file's last `heldOutSize` records (after a seeded shuffle) are held out.
 */
export async function loadDataset(options: DataSourceOptions): Promise<Dataset> {
  const { data, seed, trainSize, heldOutSize } = options;
  if (data === "synthetic") return generateDataset({ seed, trainSize, heldOutSize });
  let text: string;
  try {
    text = await readFile(data, "utf8");
  } catch (e) {
    throw new Error(`cannot read dataset ${data}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const firstLine = text.trimStart().split("\n", 1)[0] ?? "";
  const examples = firstLine.startsWith("{") && firstLine.includes('"family"') ? fromJsonl(text) : loadAlpaca(text);
  if (examples.length <= heldOutSize)
    throw new Error(`dataset ${data} has ${examples.length} examples, not more than the ${heldOutSize} to hold out`);
  const shuffled = new Rng(seed).shuffle([...examples]);
  return {
    train: shuffled.slice(0, shuffled.length - heldOutSize).slice(0, trainSize),
    heldOut: shuffled.slice(shuffled.length - heldOutSize),
  };
}
