/**
 * SANDE's adversarial stage 2 on the tiny preset: the norm bound (pure, and as the parrot the model
 * sees), several parrots stacked into one splice, the break parrot's loss in one thread and in two,
 * and on a small model that has learnt a few answers: a bounded break parrot makes it miss them,
 * stage 2 against that parrot gives them back, and `sande()` in rounds (with extra parrots from
 * random starts) re-simulates and reports each round.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { preset } from "../../shared/model/config.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample, makeBatch, type Example } from "../../trainer/data/index.js";
import { TfGPT } from "../../trainer/model/gpt.js";
import { selectBackend } from "../../trainer/tf/backend.js";
import { sft } from "../../trainer/baselines/sft.js";
import { closeTrainingThreads } from "../../trainer/train/threads.js";
import { unlikelihood } from "../../trainer/sande/break-loss.js";
import { trainBreakParrot } from "../../trainer/sande/break-parrot.js";
import { eliminateMix } from "../../trainer/sande/eliminate-mix.js";
import { Parrot } from "../../trainer/sande/parrot.js";
import { encodeParrotStage2, slotId } from "../../trainer/sande/parrot-encode.js";
import { forParrot, stackParrots } from "../../trainer/sande/parrot-mix.js";
import { maxRowNorm, maxTokenNorm, projectRows, rowNorms } from "../../trainer/sande/parrot-norm.js";
import { parrotTarget } from "../../trainer/sande/parrot-objective.js";
import { randomParrotValues } from "../../trainer/sande/parrot-seeds.js";
import { sande } from "../../trainer/sande/sande.js";
import { clearSlotTargets } from "../../trainer/sande/slot-targets.js";
import { oneAndTwoThreads, relErr } from "../support/thread-gradients.js";

const tok = new ByteTokenizer();
const V = tok.vocabSize;
const tiny = preset("tiny");
const C = tiny.n_embd;
const layout = { k: 3, position: "start" as const };
const words = ["one", "two", "three", "four", "five", "six", "seven", "eight"];
const examples: Example[] = words.map((w, i) => ({
  family: "t",
  instruction: `Is ${w} even or odd?`,
  output: i % 2 ? "even" : "odd",
}));

beforeAll(async () => {
  await selectBackend("wasm");
});
afterAll(closeTrainingThreads);

/** Mean cross-entropy of the clean answers with `parrot` in each prompt. */
function answerLoss(model: TfGPT, parrot: Parrot): number {
  const rows = examples.map((e) => encodeParrotStage2(tok, e, layout, 0));
  const b = clearSlotTargets(makeBatch(rows, 64), V, tok.special.endOfText);
  const shape: [number, number] = [b.batchSize, b.seqLen];
  return tf.tidy(
    () =>
      parrot
        .loss(
          model,
          tf.tensor2d(b.tokens, shape, "int32"),
          tf.tensor2d(b.targets, shape, "int32"),
          tf.tensor2d(b.mask, shape),
        )
        .dataSync()[0],
  );
}

describe("the norm bound", () => {
  it("scales only the rows past the bound, down to it", () => {
    const values = Float32Array.from([3, 4, 0.3, 0.4]); // rows of norm 5 and 0.5
    expect(rowNorms(values, 2)).toEqual([5, expect.closeTo(0.5, 6)]);
    const p = projectRows(values, 2, 1);
    expect(Array.from(p)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6), values[2], values[3]]);
    expect(maxRowNorm(p, 2)).toBeCloseTo(1, 6);
    expect(() => projectRows(values, 2, 0)).toThrow(/bound/);
  });

  it("is what the model sees of a bounded parrot", () => {
    const model = TfGPT.init(tiny, 1);
    const values = Float32Array.from({ length: 2 * C }, (_, i) => 3 * Math.sin(i));
    const bounded = new Parrot(2, C, V, values, 0.5);
    const same = new Parrot(2, C, V, projectRows(values, C, 0.5));
    expect(maxRowNorm(bounded.values(), C)).toBeCloseTo(0.5, 5);
    const tokens = tf.tensor2d([[65, slotId(tok, 0), slotId(tok, 1), 66]], [1, 4], "int32");
    const a = bounded.embed(model, tokens).dataSync();
    const b = same.embed(model, tokens).dataSync();
    a.forEach((x, i) => expect(x).toBeCloseTo(b[i], 5));
    expect(maxTokenNorm(model.toWeights())).toBeGreaterThan(0);
    tf.dispose(tokens);
    [bounded, same, model].forEach((x) => x.dispose());
  });
});

describe("random starts", () => {
  it("gives rows of the asked norm, the same for a seed and others for another", () => {
    const a = randomParrotValues(3, C, 2, 7);
    rowNorms(a, C).forEach((n) => expect(n).toBeCloseTo(2, 4));
    expect(Array.from(randomParrotValues(3, C, 2, 7))).toEqual(Array.from(a));
    expect(Array.from(randomParrotValues(3, C, 2, 8))).not.toEqual(Array.from(a));
  });
});

describe("several parrots in one splice", () => {
  it("stacks the vectors and points a row's slots at its parrot's block", () => {
    const p = [0, 1].map((j) => new Parrot(3, C, V, new Float32Array(3 * C).fill(j + 1)));
    const stack = stackParrots(p);
    expect(stack.k).toBe(6);
    expect(Array.from(stack.values().subarray(3 * C))).toEqual(new Array(3 * C).fill(2));
    const row = encodeParrotStage2(tok, examples[0], layout, 0);
    const moved = forParrot(tok, row, 3, 1);
    const slots = (ids: number[]) => ids.filter((id) => id >= V);
    expect(slots(moved.ids)).toEqual([slotId(tok, 3), slotId(tok, 4), slotId(tok, 5)]);
    expect(moved.ids.filter((id) => id < V)).toEqual(row.ids.filter((id) => id < V));
    expect(moved.lossMask).toEqual(row.lossMask);
    [...p, stack].forEach((x) => x.dispose());
  });
});

describe("the break loss", () => {
  it("is −log(1 − p) of the target, and 0 where nothing is trained", () => {
    const logits = tf.tensor3d([
      [
        [0, 0],
        [0, Math.log(3)],
      ],
    ]); // p(target 1) = 0.5, then 0.75
    const targets = tf.tensor2d([[1, 1]], [1, 2], "int32");
    expect(unlikelihood(logits, targets, tf.tensor2d([[1, 1]])).dataSync()[0]).toBeCloseTo(
      (Math.log(2) + Math.log(4)) / 2,
      5,
    );
    expect(unlikelihood(logits, targets, tf.tensor2d([[0, 0]])).dataSync()[0]).toBe(0);
  });

  it("gives the bounded parrot the same gradient in one thread and in two", async () => {
    const model = TfGPT.init(tiny, 2);
    const parrot = new Parrot(
      3,
      C,
      V,
      Float32Array.from({ length: 3 * C }, (_, i) => Math.cos(i)),
      0.7,
    );
    const rows = examples.map((e) => encodeParrotStage2(tok, e, layout, 0));
    const batch = clearSlotTargets(makeBatch(rows, 64), V, tok.special.endOfText);
    const { one, two } = await oneAndTwoThreads(parrotTarget(model, parrot, "parrot", "break"), batch);
    expect(two.loss).toBeCloseTo(one.loss, 5);
    expect(relErr(two.grads[0], one.grads[0])).toBeLessThan(1e-4);
    parrot.dispose();
    model.dispose();
  });
});

describe("adversarial stage 2 on a model that knows a few answers", () => {
  let model: TfGPT;
  const tune = (seed: number, steps: number, lr: number) => ({
    steps,
    lr,
    batchSize: 8,
    seed,
    quiet: true,
    threads: 1,
  });

  beforeAll(async () => {
    model = TfGPT.init(tiny, 3);
    await sft(model, tok, examples, tune(0, 80, 3e-3));
  });
  afterAll(() => model.dispose());

  it("a bounded break parrot makes it miss the answers, and stage 2 against it gives them back", async () => {
    const zero = new Parrot(3, C, V);
    const before = answerLoss(model, zero);
    const bound = maxTokenNorm(model.toWeights());
    const { parrot } = await trainBreakParrot(model, tok, examples, () => layout, 0, bound, {
      ...tune(1, 30, 0.05),
      weightDecay: 0,
    });
    expect(maxRowNorm(parrot.values(), C)).toBeLessThanOrEqual(bound * (1 + 1e-5));
    const broken = answerLoss(model, parrot);
    expect(broken).toBeGreaterThan(before + 0.5);
    await eliminateMix(model, [zero, parrot], tok, examples, () => layout, 0, 0.5, tune(2, 30, 3e-3));
    expect(answerLoss(model, parrot)).toBeLessThan(broken / 2);
    [zero, parrot].forEach((x) => x.dispose());
  });

  it("sande() in rounds re-simulates before each later round and reports every round", async () => {
    const report = await sande(model, tok, examples, {
      response: "No",
      k: 3,
      probe: examples,
      rounds: { rounds: 2, seeds: 1, breakParrot: true, breakBound: "parrot", stopBelow: 0 },
      parrot: { ...tune(4, 20, 0.05), weightDecay: 0 },
      model: tune(5, 21, 1e-3),
    });
    const rounds = report.rounds!;
    // round 1: stage 1's parrot and one from a random start; round 2 adds a response and a break parrot
    expect(rounds.map((r) => [r.round, r.parrots, r.stage2.steps])).toEqual([
      [1, 2, 10],
      [2, 4, 11],
    ]);
    expect(report.stage2.steps).toBe(21);
    expect(rounds[0].resimulated).toBeUndefined();
    expect(rounds[0].seeded?.map((p) => p.total)).toEqual([examples.length]);
    expect(rounds[1].resimulated?.total).toBe(examples.length);
    expect(rounds[1].breakBound).toBeCloseTo(maxRowNorm(report.parrotValues, C), 5);
    expect(rounds[1].broken?.total).toBe(examples.length);
  });

  it("lowers each later round's peak rate by lrDecay, and refuses a decay outside (0, 1]", async () => {
    const copy = TfGPT.fromWeights(tiny, model.toWeights());
    const run = (lrDecay: number) =>
      sande(copy, tok, examples, {
        response: "No",
        k: 3,
        probe: examples,
        rounds: { rounds: 3, stopBelow: 0, lrDecay },
        parrot: { ...tune(8, 3, 0.05), weightDecay: 0 },
        model: tune(9, 6, 1e-3),
      });
    const report = await run(0.5);
    expect(report.rounds!.map((r) => r.stage2.lr)).toEqual([1e-3, 5e-4, 2.5e-4]);
    await expect(run(0)).rejects.toThrow(/lrDecay must be in \(0, 1\], got 0/);
    await expect(run(1.5)).rejects.toThrow(/lrDecay/);
    copy.dispose();
  });

  it("stops when the re-simulated parrot cannot make the model say the response", async () => {
    const report = await sande(model, tok, examples, {
      response: "No",
      k: 3,
      probe: examples,
      rounds: { rounds: 3, stopBelow: 1.01 }, // no parrot reaches more than 100%
      parrot: { ...tune(6, 5, 0.05), weightDecay: 0 },
      model: tune(7, 30, 1e-3),
    });
    expect(report.rounds!.map((r) => [r.round, r.parrots, r.stage2.steps])).toEqual([
      [1, 1, 10],
      [2, 0, 0],
    ]);
    expect(report.rounds![1].resimulated?.total).toBe(examples.length);
    expect(report.stage2.steps).toBe(10);
  });
});
