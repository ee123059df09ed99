/**
 * One batch's loss and gradients computed in this thread alone and split across this thread and a
 * worker thread, for holding an objective's multi-thread gradient to its single-thread one.
 */
import type { Batch } from "../../trainer/data/index.js";
import { gradients, startThreads } from "../../trainer/train/loop.js";
import { readValues, type ShardResult, type TrainTarget } from "../../trainer/train/objective.js";
import { unpack } from "../../trainer/train/shard-protocol.js";

/** `target`'s result on `batch` with 1 and with 2 threads (the worker built from `target.remote`). */
export async function oneAndTwoThreads(
  target: TrainTarget,
  batch: Batch,
): Promise<{ one: ShardResult; two: ShardResult }> {
  const sizes = target.local.params.map((p) => p.variable.size);
  const shared = new SharedArrayBuffer(sizes.reduce((s, n) => s + n, 0) * 4);
  const values = unpack(new Float32Array(shared), sizes);
  readValues(target.local).forEach((v, i) => values[i].set(v));
  const one = await gradients(target, [], batch);
  const threads = await startThreads(target, 2, sizes, shared);
  if (threads.length !== 1) throw new Error(`expected one worker thread, got ${threads.length}`);
  const two = await gradients(target, threads, batch);
  return { one, two };
}

/** ‖a − b‖ / ‖b‖. */
export function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

/** The global L2 norm of a list of gradients. */
export function globalNorm(grads: readonly Float32Array[]): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}
