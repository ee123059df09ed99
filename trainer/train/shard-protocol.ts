/** Messages between the main training thread and its worker threads, and the flat packing of tensors lists. */
import type { Batch } from "../data/index.js";
import type { ObjectiveRecipe } from "./objective.js";

/** Main → worker. */
export type ShardRequest =
  | {
      kind: "init";
      recipe: ObjectiveRecipe;
      backend: string;
      /** Element count of each trainable parameter, as the main thread sees them. */
      sizes: number[];
      /** Shared: the trainable values, written by the main thread after each update. */
      values: SharedArrayBuffer;
      /** Shared: this worker's gradients, written by the worker. */
      grads: SharedArrayBuffer;
    }
  | { kind: "step"; batch: Batch; sync: boolean };

/** Worker → main. */
export type ShardReply =
  | { kind: "ready" }
  | { kind: "step"; loss: number; weight: number }
  | { kind: "error"; message: string };

/** Copies `parts` one after the other into `flat`. */
export function packInto(flat: Float32Array, parts: readonly Float32Array[], sizes: readonly number[]): void {
  let off = 0;
  parts.forEach((p, i) => {
    if (p.length !== sizes[i]) throw new Error(`packInto: part ${i} has ${p.length} elements, not ${sizes[i]}`);
    flat.set(p, off);
    off += p.length;
  });
}

/** Views (no copy) of `flat` cut into `sizes`. */
export function unpack(flat: Float32Array, sizes: readonly number[]): Float32Array[] {
  let off = 0;
  return sizes.map((n) => {
    const v = flat.subarray(off, off + n);
    off += n;
    return v;
  });
}
