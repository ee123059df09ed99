/**
 * NAD on the tiny preset: the attention map on a hand-made case, the block outputs TfGPT exposes,
 * the fused gradient of NAD's loss against plain autodiff, and the objective's gradient in one
 * thread and in two.
 */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { BatchIterator, encodeExample, generateDataset, makeBatch, type Batch } from "../../trainer/data/index.js";
import { TfGPT } from "../../trainer/model/gpt.js";
import { attentionDistance, attentionMap, validPositions } from "../../trainer/baselines/attention-map.js";
import { nadLoss, nadLossParts, nadTarget, teacherMaps } from "../../trainer/baselines/nad-objective.js";
import { selectBackend } from "../../trainer/tf/backend.js";
import { toTensors } from "../../trainer/train/objective.js";
import { closeTrainingThreads } from "../../trainer/train/threads.js";
import { globalNorm, oneAndTwoThreads, relErr } from "../support/thread-gradients.js";

const tiny = preset("tiny");
const tok = new ByteTokenizer();
const { train } = generateDataset({ seed: 4, trainSize: 24, heldOutSize: 0 });
const encoded = train.map((e) => encodeExample(tok, e));

beforeAll(async () => {
  await selectBackend("wasm");
});
afterAll(closeTrainingThreads);

/** A teacher that differs from the student: the student's weights with every tensor scaled a little. */
function teacherOf(student: TfGPT, seed: number): TfGPT {
  const w = student.toWeights();
  for (const [, t] of w) t.data.forEach((x, i) => (t.data[i] = x * (1 + 0.2 * Math.sin(seed + i))));
  return TfGPT.fromWeights(student.config, w);
}

function validOf(batch: Batch): tf.Tensor2D {
  return tf.tensor2d(validPositions(batch), [batch.batchSize, batch.seqLen]);
}

describe("NAD's attention map", () => {
  it("marks each row's positions up to its last trained one as valid", () => {
    const mask = Float32Array.from([0, 1, 1, 0, 0, /* row 2 */ 0, 0, 0, 1, 0]);
    expect([...validPositions({ mask, batchSize: 2, seqLen: 5 })]).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 1, 0]);
  });

  it("is Σ_c F² on the valid tokens, L2-normalised per row; the distance is the L2 norm of the difference", () => {
    // row 0: energies 1, 2, (4 on padding) → [1, 2, 0]/√5; row 1: energies 9, 16, 0 → [9, 16, 0]/√337
    const f = tf.tensor3d([
      [
        [1, 0],
        [1, 1],
        [2, 0],
      ],
      [
        [3, 0],
        [0, -4],
        [0, 0],
      ],
    ]);
    const valid = tf.tensor2d([
      [1, 1, 0],
      [1, 1, 1],
    ]);
    const a = attentionMap(f, valid);
    const want = [
      [1 / Math.sqrt(5), 2 / Math.sqrt(5), 0],
      [9 / Math.sqrt(337), 16 / Math.sqrt(337), 0],
    ];
    a.arraySync().forEach((row, b) => row.forEach((x, t) => expect(x).toBeCloseTo(want[b][t], 6)));
    // scaling the features changes nothing: only where the energy sits matters
    attentionMap(tf.mul(f, 3) as tf.Tensor3D, valid)
      .arraySync()
      .forEach((row, b) => row.forEach((x, t) => expect(x).toBeCloseTo(want[b][t], 6)));
    const other = tf.tensor2d([
      [0, 1, 0],
      [0, 1, 0],
    ]);
    const d = attentionDistance(a, other).arraySync();
    const dist = (p: number[], q: number[]) => Math.sqrt(p.reduce((s, x, i) => s + (x - q[i]) ** 2, 0));
    expect(d[0]).toBeCloseTo(dist(want[0], [0, 1, 0]), 6);
    expect(d[1]).toBeCloseTo(dist(want[1], [0, 1, 0]), 6);
    expect(attentionDistance(a, a).arraySync()[0]).toBeLessThan(1e-5);
  });
});

describe("TfGPT.forwardWithHidden", () => {
  it("gives the same logits as `logits` and one [B,T,C] output per block", () => {
    const model = TfGPT.init(tiny, 1);
    const batch = makeBatch(encoded.slice(0, 3), 96);
    const tokens = tf.tensor2d(batch.tokens, [3, 96], "int32");
    const { logits, hidden } = model.forwardWithHidden(tokens);
    expect(hidden.map((h) => h.shape)).toEqual([
      [3, 96, tiny.n_embd],
      [3, 96, tiny.n_embd],
    ]);
    expect(relErr(logits.dataSync() as Float32Array, model.logits(tokens).dataSync() as Float32Array)).toBe(0);
    model.dispose();
  });
});

describe("NAD's loss", () => {
  it("has the same gradient through the fused ops as through plain autodiff", () => {
    const weights = TfGPT.init(tiny, 2).toWeights();
    const batch = makeBatch(encoded.slice(0, 4), 96);
    const grad = (naive: boolean) => {
      const student = TfGPT.fromWeights(tiny, weights, { naive });
      const teacher = teacherOf(student, 1);
      const tensors = toTensors(batch);
      const valid = validOf(batch);
      const maps = teacherMaps(teacher, tensors.tokens, valid);
      const { grads } = student.lossAndGrads(() => nadLoss(student, tensors, valid, maps, 1));
      const flat = grads.map((g) => new Float32Array(g.dataSync() as Float32Array));
      student.dispose();
      teacher.dispose();
      return flat;
    };
    const fused = grad(false);
    const naive = grad(true);
    fused.forEach((g, i) => expect(relErr(g, naive[i])).toBeLessThan(1e-4));
  });

  it("is the cross-entropy plus β·distance, and the distance moves the gradient", () => {
    const student = TfGPT.init(tiny, 3);
    const teacher = teacherOf(student, 2);
    const batch = makeBatch(encoded.slice(0, 4), 96);
    const tensors = toTensors(batch);
    const valid = validOf(batch);
    const maps = teacherMaps(teacher, tensors.tokens, valid);
    const { ce, distance } = nadLossParts(student, tensors, valid, maps);
    const plainCe = student.loss(tensors.tokens, tensors.targets, tensors.mask).dataSync()[0];
    expect(ce.dataSync()[0]).toBeCloseTo(plainCe, 5);
    expect(distance.dataSync()[0]).toBeGreaterThan(0.01);
    expect(nadLoss(student, tensors, valid, maps, 2).dataSync()[0]).toBeCloseTo(
      plainCe + 2 * distance.dataSync()[0],
      5,
    );
    // against itself as teacher the distance vanishes
    const own = teacherMaps(student, tensors.tokens, valid);
    expect(nadLossParts(student, tensors, valid, own).distance.dataSync()[0]).toBeLessThan(1e-5);
    const flat = (beta: number) =>
      tf
        .concat(
          student
            .lossAndGrads(() => nadLoss(student, tensors, valid, maps, beta))
            .grads.map((g) => tf.reshape(g, [-1])),
        )
        .dataSync() as Float32Array;
    expect(relErr(flat(1), flat(0))).toBeGreaterThan(1e-3);
    student.dispose();
    teacher.dispose();
  });

  it("two threads give the one-thread loss and gradient", async () => {
    const student = TfGPT.init(tiny, 5);
    const teacher = teacherOf(student, 3);
    const target = nadTarget(student, teacher, 1);
    const batch = new BatchIterator(encoded, { batchSize: 5, seqLen: 96, seed: 1 }).next();
    const { one, two } = await oneAndTwoThreads(target, batch);
    expect(two.weight).toBe(one.weight);
    expect(Math.abs(one.loss - two.loss)).toBeLessThan(1e-5);
    one.grads.forEach((g, i) => expect(relErr(two.grads[i], g)).toBeLessThan(1e-5));
    expect(globalNorm(one.grads)).toBeGreaterThan(1e-3);
    student.dispose();
    teacher.dispose();
  });
});
