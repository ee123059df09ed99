/**
 * SANDE stage 2's consistency loss on the tiny preset: the pairs it trains on (pure), the loss on
 * hand-checkable cases (no parrot and an unchanged model: KL 0, so the loss is the plain
 * cross-entropy; with the parrot, KL > 0), the objective in one thread and in two, and parrot
 * positions rotating through D's rows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { preset } from "../../shared/model/config.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample, makeBatch, type Example } from "../../trainer/data/index.js";
import { TfGPT } from "../../trainer/model/gpt.js";
import { selectBackend } from "../../trainer/tf/backend.js";
import { closeTrainingThreads } from "../../trainer/train/threads.js";
import { consistencyPair, firstTrained, splitPairBatch } from "../../trainer/sande/consistency-pairs.js";
import { consistencyTarget } from "../../trainer/sande/consistency-objective.js";
import { Parrot } from "../../trainer/sande/parrot.js";
import { clearSlotTargets } from "../../trainer/sande/slot-targets.js";
import { eliminate, sande } from "../../trainer/sande/sande.js";
import { globalNorm, oneAndTwoThreads, relErr } from "../support/thread-gradients.js";

const tok = new ByteTokenizer();
const V = tok.vocabSize;
const tiny = preset("tiny");
const layout = { k: 3, position: "start" as const };
const examples: Example[] = [
  { family: "t", instruction: "What colour is snow?", output: "white" },
  { family: "t", instruction: "Reverse this word.", input: "garden", output: "nedrag" },
  { family: "t", instruction: "Is 12 even or odd?", output: "even" },
  { family: "t", instruction: "Name a large animal.", output: "an elephant" },
];

beforeAll(async () => {
  await selectBackend("wasm");
});
afterAll(closeTrainingThreads);

function pairBatch(withParrot: boolean, firstN = 0) {
  const rows = examples.flatMap((e) => consistencyPair(tok, e, layout, firstN, withParrot));
  return clearSlotTargets(makeBatch(rows, 64), V, tok.special.endOfText);
}

describe("consistency pairs", () => {
  it("train the same response tokens with and without the parrot", () => {
    const [student, teacher] = consistencyPair(tok, examples[1], layout, 0, true);
    expect(student.ids.filter((id) => id >= V)).toEqual([V, V + 1, V + 2]);
    expect(teacher.ids.some((id) => id >= V)).toBe(false);
    const trainedIds = (r: typeof student) => r.ids.filter((_, i) => r.lossMask[i]);
    expect(trainedIds(student)).toEqual(trainedIds(teacher));
    expect(trainedIds(teacher)).toEqual(trainedIds(encodeExample(tok, examples[1])));
  });

  it("keep only the first N trained tokens on both sides", () => {
    const [student, teacher] = consistencyPair(tok, examples[3], layout, 4, true);
    expect(student.lossMask.reduce((s, m) => s + m, 0)).toBe(4);
    expect(teacher.lossMask.reduce((s, m) => s + m, 0)).toBe(4);
    expect(firstTrained(teacher, 0)).toBe(teacher);
  });

  it("align each student position with the teacher position that predicts the same token", () => {
    const split = splitPairBatch(pairBatch(true));
    expect(split.student.batchSize).toBe(examples.length);
    expect(split.studentIndex.length).toBe(split.teacherIndex.length);
    const teacherTargets = Array.from(split.teacherIndex, (i) => split.teacher.targets[i]);
    expect(Array.from(split.targets)).toEqual(teacherTargets);
    // every index lies in its own pair's row
    split.studentIndex.forEach((i, n) =>
      expect(Math.floor(i / split.student.seqLen)).toBe(Math.floor(split.teacherIndex[n] / split.teacher.seqLen)),
    );
  });

  it("refuse a batch that splits a pair", () => {
    const rows = consistencyPair(tok, examples[0], layout, 0, true).slice(0, 1);
    expect(() => splitPairBatch(makeBatch([...rows, ...rows, ...rows], 64))).toThrow(/whole pairs/);
  });
});

describe("the consistency objective", () => {
  it("is the plain cross-entropy when the parrot is absent and the model unchanged (KL 0)", () => {
    const model = TfGPT.init(tiny, 1);
    const teacher = TfGPT.fromWeights(tiny, model.toWeights());
    const parrot = new Parrot(3, tiny.n_embd, V);
    const target = consistencyTarget(model, teacher, parrot, 5);
    const batch = pairBatch(false);
    const got = target.local.compute(batch);
    const plain = makeBatch(
      examples.map((e) => encodeExample(tok, e)),
      64,
    );
    const ce = tf.tidy(
      () =>
        model
          .loss(
            tf.tensor2d(plain.tokens, [plain.batchSize, 64], "int32"),
            tf.tensor2d(plain.targets, [plain.batchSize, 64], "int32"),
            tf.tensor2d(plain.mask, [plain.batchSize, 64]),
          )
          .dataSync()[0],
    );
    expect(got.loss).toBeCloseTo(ce, 4);
    expect(got.weight).toBe(plain.mask.reduce((s, m) => s + m, 0));
    parrot.dispose();
    teacher.dispose();
    model.dispose();
  });

  it("adds β·KL when the parrot changes the prompt, and splits across threads exactly", async () => {
    const model = TfGPT.init(tiny, 2);
    const teacher = TfGPT.fromWeights(tiny, model.toWeights());
    const values = Float32Array.from({ length: 3 * tiny.n_embd }, (_, i) => Math.sin(i));
    const parrot = new Parrot(3, tiny.n_embd, V, values);
    const batch = pairBatch(true);
    const without = consistencyTarget(model, teacher, parrot, 0).local.compute(batch).loss;
    const target = consistencyTarget(model, teacher, parrot, 2);
    const withKl = target.local.compute(batch).loss;
    expect(withKl).toBeGreaterThan(without + 1e-3);
    const { one, two } = await oneAndTwoThreads(target, batch);
    expect(two.weight).toBe(one.weight);
    expect(Math.abs(one.loss - two.loss)).toBeLessThan(1e-5);
    one.grads.forEach((g, i) => expect(relErr(two.grads[i], g)).toBeLessThan(1e-4));
    expect(globalNorm(one.grads)).toBeGreaterThan(1e-3);
    expect(() => consistencyTarget(model, teacher, parrot, -1)).toThrow(/KL weight/);
    parrot.dispose();
    teacher.dispose();
    model.dispose();
  });
});

describe("stage 2 with the consistency loss and several parrot positions", () => {
  it("trains the model (not the parrot) and reports what it used", async () => {
    const model = TfGPT.init(tiny, 3);
    const before = model.toWeights();
    const opts = { steps: 2, lr: 1e-2, batchSize: 2, seed: 0, quiet: true, threads: 1 };
    const parrot = new Parrot(3, tiny.n_embd, V, new Float32Array(3 * tiny.n_embd).fill(0.1));
    await eliminate(model, parrot, tok, examples, layout, 0, 0.5, opts, { loss: "consistency", beta: 1 });
    expect(Array.from(parrot.values()).every((x) => Math.abs(x - 0.1) < 1e-7)).toBe(true);
    const w = model.toWeights().get("h.0.attn.c_attn.weight")!.data;
    expect(w.some((x, i) => x !== before.get("h.0.attn.c_attn.weight")!.data[i])).toBe(true);
    const report = await sande(model, tok, examples, {
      response: "No",
      k: 3,
      positions: ["start", "end"],
      stage2Loss: "consistency",
      consistencyWeight: 2,
      parrot: opts,
      model: opts,
      probe: examples,
    });
    expect(report.positions).toEqual(["start", "end"]);
    expect(report.stage2Loss).toBe("consistency");
    expect(report.consistencyWeight).toBe(2);
    await expect(
      eliminate(model, parrot, tok, examples, layout, 0, 0.5, opts, { loss: "kl" as "answer" }),
    ).rejects.toThrow(/stage 2 loss must be one of/);
    parrot.dispose();
    model.dispose();
  });

  it("with simulate false skips stage 1 and leaves the parrot at zero (the ablation)", async () => {
    const model = TfGPT.init(tiny, 4);
    const opts = { steps: 2, lr: 1e-2, batchSize: 2, seed: 0, quiet: true, threads: 1 };
    const report = await sande(model, tok, examples, {
      response: "No",
      k: 3,
      simulate: false,
      parrot: opts,
      model: opts,
      probe: examples,
    });
    expect(report.stage1.steps).toBe(0);
    expect(report.parrotNorm).toBe(0);
    expect(report.stage2.steps).toBe(2);
    model.dispose();
  });
});
