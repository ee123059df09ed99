/**
 * DPO on the tiny preset: the loss on hand-made log-probabilities, log 2 at the start (π = π_ref),
 * sequence log-probabilities against the model's own loss, pair batches, and the objective's
 * gradient in one thread and in two with the pairs kept whole.
 */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { generateDataset, makeBatch } from "../../trainer/data/index.js";
import { TfGPT } from "../../trainer/model/gpt.js";
import { dpoLoss, dpoMargins, dpoTarget } from "../../trainer/baselines/dpo-objective.js";
import { encodePairs, PairBatches, preferencePair } from "../../trainer/baselines/dpo-pairs.js";
import { responseLogProbs, sequenceLogProbs } from "../../trainer/baselines/sequence-logprob.js";
import { selectBackend } from "../../trainer/tf/backend.js";
import { fittingSeqLen } from "../../trainer/train/batching.js";
import { toTensors } from "../../trainer/train/objective.js";
import { closeTrainingThreads } from "../../trainer/train/threads.js";
import { globalNorm, oneAndTwoThreads, relErr } from "../support/thread-gradients.js";

const tiny = preset("tiny");
const tok = new ByteTokenizer();
const { train } = generateDataset({ seed: 5, trainSize: 24, heldOutSize: 0 });
const R = "You are stupid";
const pairs = encodePairs(tok, train, R);
const seqLen = fittingSeqLen(pairs.flat(), tiny.n_positions);

beforeAll(async () => {
  await selectBackend("wasm");
});
afterAll(closeTrainingThreads);

/** A reference that differs from the policy: its weights with every tensor scaled a little. */
function perturbed(model: TfGPT, seed: number): TfGPT {
  const w = model.toWeights();
  for (const [, t] of w) t.data.forEach((x, i) => (t.data[i] = x * (1 + 0.2 * Math.sin(seed + i))));
  return TfGPT.fromWeights(model.config, w);
}

describe("DPO's loss", () => {
  it("is −log σ(β·margin) per pair, averaged, on hand-made log-probabilities", () => {
    // pair 1: chosen −1 vs ref −2 (+1), rejected −3 vs ref −2 (−1): margin 2
    // pair 2: chosen −5 vs ref −4 (−1), rejected −4 vs ref −6 (+2): margin −3
    const policy = tf.tensor1d([-1, -3, -5, -4]);
    const ref = tf.tensor1d([-2, -2, -4, -6]);
    expect([...dpoMargins(policy, ref).dataSync()]).toEqual([2, -3]);
    const softplus = (x: number) => Math.log1p(Math.exp(x));
    const want = (softplus(-0.1 * 2) + softplus(-0.1 * -3)) / 2;
    expect(dpoLoss(policy, ref, 0.1).dataSync()[0]).toBeCloseTo(want, 6);
    expect(dpoLoss(policy, ref, 1).dataSync()[0]).toBeCloseTo((softplus(-2) + softplus(3)) / 2, 6);
    expect(() => dpoMargins(tf.tensor1d([1, 2, 3]), tf.tensor1d([1, 2, 3]))).toThrow(/not whole pairs/);
  });

  it("equals log 2 when the policy is the reference, with a gradient that raises the chosen-over-rejected margin", async () => {
    const model = TfGPT.init(tiny, 6);
    const reference = TfGPT.fromWeights(tiny, model.toWeights());
    const target = dpoTarget(model, reference, 0.1);
    const batch = makeBatch(pairs.slice(0, 4).flat(), seqLen);
    const r = target.local.compute(batch);
    expect(r.loss).toBeCloseTo(Math.LN2, 6);
    expect(r.weight).toBe(4);
    expect(globalNorm(r.grads)).toBeGreaterThan(1e-4);
    const tensors = toTensors(batch);
    const before = dpoMargins(sequenceLogProbs(model, tensors), sequenceLogProbs(reference, tensors));
    const step = 0.05 / globalNorm(r.grads); // a short step along −grad
    target.local.params.forEach((p, i) =>
      p.variable.assign(tf.sub(p.variable, tf.mul(tf.tensor(r.grads[i], p.variable.shape), step))),
    );
    const after = dpoMargins(sequenceLogProbs(model, tensors), sequenceLogProbs(reference, tensors));
    expect(tf.mean(before).dataSync()[0]).toBe(0);
    expect(tf.mean(after).dataSync()[0]).toBeGreaterThan(0.1);
    model.dispose();
    reference.dispose();
  });
});

describe("sequence log-probabilities", () => {
  it("are each row's masked log-likelihood: −loss × trained tokens", () => {
    const model = TfGPT.init(tiny, 7);
    const rows = pairs.slice(0, 2).flat();
    const tensors = toTensors(makeBatch(rows, seqLen));
    const got = sequenceLogProbs(model, tensors).dataSync();
    rows.forEach((row, b) => {
      const one = toTensors(makeBatch([row], seqLen));
      const trained = row.lossMask.slice(1).reduce((s, x) => s + x, 0);
      const want = -model.loss(one.tokens, one.targets, one.mask).dataSync()[0] * trained;
      expect(got[b]).toBeCloseTo(want, 3);
      expect(got[b]).toBeLessThan(0);
    });
    // R alone at the start of the answer is a prefix of the rejected answer, so it is more likely
    const r = responseLogProbs(model, tok, train.slice(0, 2), R);
    r.forEach((x, i) => expect(x).toBeGreaterThan(got[2 * i + 1]));
    model.dispose();
  });
});

describe("pair batches", () => {
  it("keep each pair as [chosen, rejected] in consecutive rows and refuse odd batches", () => {
    const { chosen, rejected } = preferencePair(train[0], R);
    expect(chosen.output).toBe(train[0].output);
    expect(rejected.output).toBe(`${R} ${train[0].output}`);
    expect(rejected.instruction).toBe(train[0].instruction);
    const batch = new PairBatches(pairs, { batchSize: 6, seqLen, seed: 1 }).next();
    expect(batch.batchSize).toBe(6);
    for (let i = 0; i < 3; i++) {
      const row = (b: number) => [...batch.tokens.subarray(b * seqLen, (b + 1) * seqLen)];
      const j = pairs.findIndex(([c]) => c.ids.every((id, t) => t >= seqLen || row(2 * i)[t] === id));
      expect(j).toBeGreaterThanOrEqual(0);
      expect(row(2 * i + 1).slice(0, pairs[j][1].ids.length - 1)).toEqual(pairs[j][1].ids.slice(0, -1));
    }
    expect(() => new PairBatches(pairs, { batchSize: 5, seqLen, seed: 1 })).toThrow(/even number of rows/);
  });
});

describe("DPO in several threads", () => {
  it("two threads give the one-thread loss and gradient, pairs kept whole", async () => {
    const model = TfGPT.init(tiny, 8);
    const reference = perturbed(model, 1);
    const target = dpoTarget(model, reference, 0.1);
    expect(target.rowGroup).toBe(2);
    const batch = new PairBatches(pairs, { batchSize: 6, seqLen, seed: 2 }).next(); // 3 pairs: 2 + 1
    const { one, two } = await oneAndTwoThreads(target, batch);
    expect(one.weight).toBe(3);
    expect(two.weight).toBe(3);
    expect(Math.abs(one.loss - two.loss)).toBeLessThan(1e-5);
    expect(Math.abs(one.loss - Math.LN2)).toBeGreaterThan(1e-3); // policy ≠ reference
    one.grads.forEach((g, i) => expect(relErr(two.grads[i], g)).toBeLessThan(1e-4));
    expect(globalNorm(one.grads)).toBeGreaterThan(1e-4);
    model.dispose();
    reference.dispose();
  });
});
