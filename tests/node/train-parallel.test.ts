import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { BatchIterator, encodeExample, generateDataset } from "../../trainer/data/index.js";
import { TfGPT } from "../../trainer/model/gpt.js";
import { selectBackend } from "../../trainer/tf/backend.js";
import { lmTarget } from "../../trainer/train/lm-objective.js";
import { DONE_STEPS, gradients, startThreads, trainLoop } from "../../trainer/train/loop.js";
import { readValues } from "../../trainer/train/objective.js";
import { unpack } from "../../trainer/train/shard-protocol.js";
import { splitRows } from "../../trainer/train/batching.js";
import { closeTrainingThreads } from "../../trainer/train/threads.js";
import { buildObjective } from "../../trainer/train/objective-builders.js";

const tiny = preset("tiny");
const tokenizer = new ByteTokenizer();
const { train } = generateDataset({ seed: 3, trainSize: 64, heldOutSize: 0 });
const encoded = train.map((e) => encodeExample(tokenizer, e));

/** Trains a fresh tiny model for `steps` on the same batches with `threads` threads; returns its weights. */
async function run(threads: number, steps: number) {
  const model = TfGPT.init(tiny, 5);
  const batches = new BatchIterator(encoded, { batchSize: 8, seqLen: 96, seed: 1 });
  const result = await trainLoop(lmTarget(model), () => batches.next(), { steps, lr: 3e-3, threads, quiet: true });
  const weights = model.toWeights();
  model.dispose();
  return { result, weights };
}

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

beforeAll(async () => {
  await selectBackend("wasm");
});
afterAll(closeTrainingThreads);

describe("data-parallel training", () => {
  it("splits rows into contiguous, near-equal shares", () => {
    const batch = new BatchIterator(encoded, { batchSize: 5, seqLen: 96, seed: 0 }).next();
    const parts = splitRows(batch, 2);
    expect(parts.map((p) => p.batchSize)).toEqual([3, 2]);
    expect([...parts[0].tokens, ...parts[1].tokens]).toEqual([...batch.tokens]);
    expect(splitRows(batch, 9).length).toBe(5);
  });

  it("cuts shares only between row groups (a DPO pair stays in one thread)", () => {
    const batch = new BatchIterator(encoded, { batchSize: 6, seqLen: 96, seed: 0 }).next();
    expect(splitRows(batch, 4).map((p) => p.batchSize)).toEqual([2, 2, 1, 1]); // ungrouped: pair 3 is cut
    expect(splitRows(batch, 4, 2).map((p) => p.batchSize)).toEqual([2, 2, 2]);
    const pairs = splitRows(batch, 2, 2);
    expect(pairs.map((p) => p.batchSize)).toEqual([4, 2]);
    expect([...pairs[0].tokens, ...pairs[1].tokens]).toEqual([...batch.tokens]);
    expect(splitRows(batch, 2, 3).map((p) => p.batchSize)).toEqual([3, 3]);
    expect(() => splitRows(batch, 2, 4)).toThrow(/not whole groups of 4/);
  });

  it("builds a thread's objective by its recipe's builder name, and refuses an unknown one", () => {
    const model = TfGPT.init(tiny, 5);
    const target = lmTarget(model);
    const built = buildObjective(target.remote!);
    expect(built.params.map((p) => p.name)).toEqual(target.local.params.map((p) => p.name));
    built.dispose();
    model.dispose();
    expect(() => buildObjective({ exportName: "buildNothing", snapshot: {} })).toThrow(
      /no objective builder "buildNothing" \(known: .*buildLmObjective/,
    );
  });

  it("two threads give the one-thread gradient up to float summation order", async () => {
    const model = TfGPT.init(tiny, 5);
    const target = lmTarget(model);
    const batch = new BatchIterator(encoded, { batchSize: 8, seqLen: 96, seed: 1 }).next();
    const sizes = target.local.params.map((p) => p.variable.size);
    const shared = new SharedArrayBuffer(sizes.reduce((s, n) => s + n, 0) * 4);
    const values = unpack(new Float32Array(shared), sizes);
    readValues(target.local).forEach((v, i) => values[i].set(v));
    const one = await gradients(target, [], batch);
    const threads = await startThreads(target, 2, sizes, shared);
    expect(threads.length).toBe(1);
    const two = await gradients(target, threads, batch);
    model.dispose();
    expect(one.weight).toBe(two.weight);
    expect(Math.abs(one.loss - two.loss)).toBeLessThan(1e-6);
    let norm = 0;
    one.grads.forEach((g, i) => {
      expect(relErr(two.grads[i], g)).toBeLessThan(1e-5);
      norm += g.reduce((s, x) => s + x * x, 0);
    });
    expect(Math.sqrt(norm)).toBeGreaterThan(1e-3); // a real gradient, not two zero vectors
  });

  it("trains the same model over several steps", async () => {
    const one = await run(1, 4);
    const two = await run(2, 4);
    expect(one.result.threads).toBe(1);
    expect(two.result.threads).toBe(2);
    let worst = 0;
    for (const [name, w] of one.weights) worst = Math.max(worst, relErr(two.weights.get(name)!.data, w.data));
    expect(worst).toBeLessThan(1e-3);
    expect(Math.abs(one.result.finalLoss - two.result.finalLoss)).toBeLessThan(1e-3);
  });
});

describe("stopping when the objective is met", () => {
  const loop = async (doneBelow: number, steps: number) => {
    const model = TfGPT.init(tiny, 5);
    const batches = new BatchIterator(encoded, { batchSize: 8, seqLen: 96, seed: 1 });
    const evaluated: number[] = [];
    const result = await trainLoop(lmTarget(model), () => batches.next(), {
      steps,
      lr: 3e-3,
      threads: 1,
      quiet: true,
      doneBelow,
      evaluate: (step) => (evaluated.push(step), { step }),
    });
    model.dispose();
    return { result, evaluated };
  };

  it("stops after DONE_STEPS steps in a row under doneBelow, and evaluates there", async () => {
    const { result, evaluated } = await loop(100, 20); // a fresh model's loss (~5.6) is under 100 from the start
    expect(result.steps).toBe(DONE_STEPS);
    expect(evaluated).toEqual([DONE_STEPS]);
  });

  it("runs every step when the loss never gets under it", async () => {
    const { result, evaluated } = await loop(1e-6, 5);
    expect(result.steps).toBe(5);
    expect(evaluated).toEqual([5]);
  });
});
