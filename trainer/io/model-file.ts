import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { decodeModel, encodeModel, type ModelFile } from "../../shared/model/file.js";

/** Reads a model file from disk; errors name the path and what is wrong with it. */
export async function readModelFile(path: string): Promise<ModelFile> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`cannot read model ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return decodeModel(bytes);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/** Writes a model file atomically (temp file, then rename), so a crash never leaves a partial file. */
export async function writeModelFile(path: string, model: ModelFile): Promise<number> {
  const bytes = encodeModel(model);
  await writeFileAtomic(path, bytes);
  return bytes.length;
}

/** Writes bytes or text to `path` through a temp file and a rename. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
