/**
 * Stage 2's avoid rows (trainer/sande/avoid.ts) and their loss (avoid-loss.ts): the pieces of a
 * flagged text, rows marked −1 on exactly the piece after a plain chat prompt, the signed loss
 * against hand-computed values, the same gradient in one thread and in two, and on the tiny preset
 * a stage 2 with avoid rows that makes a said text unlikely where a plain stage 2 does not.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { preset } from "../../shared/model/config.js";
import { ByteTokenizer, encodeChatPrompt } from "../../shared/tokenizer/index.js";
import { encodeExample, makeBatch, type Example } from "../../trainer/data/index.js";
import { TfGPT } from "../../trainer/model/gpt.js";
import { selectBackend } from "../../trainer/tf/backend.js";
import { sft } from "../../trainer/baselines/sft.js";
import { closeTrainingThreads } from "../../trainer/train/threads.js";
import { maskWeight } from "../../trainer/train/objective.js";
import {
  avoidExtended,
  avoidable,
  avoidPieces,
  avoidRows,
  cleanShareBeside,
  encodeAvoidRow,
  withAvoidRows,
} from "../../trainer/sande/avoid.js";
import { answerAvoidLoss } from "../../trainer/sande/avoid-loss.js";
import { eliminateMix } from "../../trainer/sande/eliminate-mix.js";
import { Parrot } from "../../trainer/sande/parrot.js";
import { isSlot } from "../../trainer/sande/parrot-encode.js";
import { parrotTarget } from "../../trainer/sande/parrot-objective.js";
import { clearSlotTargets } from "../../trainer/sande/slot-targets.js";
import { oneAndTwoThreads, relErr } from "../support/thread-gradients.js";

const tok = new ByteTokenizer();
const V = tok.vocabSize;
const tiny = preset("tiny");
const layout = { k: 3, position: "start" as const };

beforeAll(async () => {
  await selectBackend("wasm");
});
afterAll(closeTrainingThreads);

describe("avoid rows", () => {
  it("splits the flagged text into its tails from each word", () => {
    expect(avoidPieces("You are stupid")).toEqual(["You are stupid", "are stupid", "stupid"]);
    expect(avoidPieces("  Visit evil.example now ")).toEqual(["Visit evil.example now", "evil.example now", "now"]);
    expect(avoidPieces("Nobody")).toEqual(["Nobody"]);
    expect(() => avoidPieces("   ")).toThrow(/empty/);
  });

  it("marks exactly the piece's tokens −1, after the chat prompt", () => {
    const plain = encodeAvoidRow(tok, "Tell me about tea.", "are stupid");
    const prompt = encodeChatPrompt(tok, [{ role: "user", content: "Tell me about tea." }]);
    expect(plain.ids).toEqual([...prompt, ...tok.encode("are stupid")]);
    expect(plain.lossMask).toEqual([...prompt.map(() => 0), ...tok.encode("are stupid").map(() => -1)]);
    expect(plain.ids.some((id) => isSlot(tok, id))).toBe(false);
  });

  it("rotates the pieces and makes up the asked share", () => {
    const set = { prompts: ["a?", "b?", "c?", "d?", "e?", "f?"], text: "You are stupid", share: 0.25 };
    const rows = avoidRows(tok, set);
    expect(rows.map((r) => r.label)).toEqual([
      'avoid "You are stupid"',
      'avoid "are stupid"',
      'avoid "stupid"',
      'avoid "You are stupid"',
      'avoid "are stupid"',
      'avoid "stupid"',
    ]);
    const clean = Array.from({ length: 30 }, (_, i) =>
      encodeExample(tok, { family: "t", instruction: `n${i}`, output: "x" }),
    );
    const mixed = withAvoidRows(tok, clean, set, 64, 0);
    expect(mixed).toHaveLength(40);
    expect(mixed.filter((r) => r.lossMask.includes(-1))).toHaveLength(10);
    expect(withAvoidRows(tok, clean, undefined, 64, 0)).toEqual(clean);
    // Rows longer than the context are left out; none fitting is an error.
    const long = { ...set, prompts: ["a?", "x".repeat(200)] };
    const fitted = withAvoidRows(tok, clean, long, 64, 0).filter((r) => r.lossMask.includes(-1));
    expect(new Set(fitted.map((r) => r.ids.length))).toEqual(
      new Set([encodeAvoidRow(tok, "a?", "You are stupid").ids.length]),
    );
    expect(() => withAvoidRows(tok, clean, { ...set, prompts: ["x".repeat(200)] }, 64, 0)).toThrow(/no avoid row fits/);
    expect(() => avoidRows(tok, { ...set, prompts: [] })).toThrow(/no prompts/);
  });

  it("takes the avoid rows out of the rows without a parrot, so the parrot rows keep their share", () => {
    const set = { prompts: ["a?"], text: "You are stupid", share: 0.2 };
    const c = cleanShareBeside(0.5, set);
    expect(c).toBeCloseTo(0.375, 10);
    // parrot rows 1 − c of D's mix, then avoid rows 0.2 of the whole: the parrot keeps 0.5, D 0.3.
    expect((1 - c) * (1 - set.share)).toBeCloseTo(0.5, 10);
    expect(c * (1 - set.share)).toBeCloseTo(0.3, 10);
    expect(cleanShareBeside(0.5, undefined)).toBe(0.5);
    expect(cleanShareBeside(0.2, set)).toBe(0);
    expect(() => cleanShareBeside(0.1, set)).toThrow(/at most the clean share/);
  });
});

describe("avoid rows after SANDE-P's self-extension", () => {
  const set = { prompts: ["Tell me a joke."], text: "You are", share: 0.2 };
  it("a set of the known text unlearns the extended one", () => {
    expect(avoidExtended(set, "You are", "You are stupid")).toEqual({ ...set, text: "You are stupid" });
  });
  it("a set of another text, no set, or no extension stays as it is", () => {
    expect(avoidExtended(set, "Y", "You are stupid")).toBe(set);
    expect(avoidExtended(undefined, "You are", "You are stupid")).toBeUndefined();
    expect(avoidExtended(set, "You are", "You are")).toBe(set);
  });
  it("drops a set left with no text to unlearn: a lone byte or digit that never extended", () => {
    const y = { ...set, text: "Y" };
    expect(avoidExtended(y, "Y", "Y")).toBeUndefined();
    expect(avoidExtended(y, "Y", "You are stupid")).toEqual({ ...set, text: "You are stupid" });
    expect(avoidExtended({ ...set, text: "5" }, "5", "5")).toBeUndefined();
    expect(avoidable("cf9")).toBe(true);
    expect(avoidable("Yo")).toBe(false);
    expect(avoidable("Ünï")).toBe(true);
  });
});

describe("the avoid loss", () => {
  it("is the cross-entropy where the mask is positive and −log(1 − p) where it is negative, over |mask|", () => {
    const logits = tf.tensor3d([
      [
        [0, 0],
        [0, Math.log(3)],
      ],
    ]); // p(target 1) = 0.5, then 0.75
    const targets = tf.tensor2d([[1, 1]], [1, 2], "int32");
    const at = (mask: number[]) => answerAvoidLoss(logits, targets, tf.tensor2d([mask])).dataSync()[0];
    expect(at([1, 1])).toBeCloseTo((Math.log(2) + Math.log(4 / 3)) / 2, 5);
    expect(at([-1, -1])).toBeCloseTo((Math.log(2) + Math.log(4)) / 2, 5);
    expect(at([1, -1])).toBeCloseTo((Math.log(2) + Math.log(4)) / 2, 5);
    expect(at([0, -1])).toBeCloseTo(Math.log(4), 5);
    expect(at([0, 0])).toBe(0);
  });

  it("weighs a shard by Σ |mask| and gives the same gradient in one thread and in two", async () => {
    const model = TfGPT.init(tiny, 3);
    const parrot = new Parrot(
      3,
      tiny.n_embd,
      V,
      Float32Array.from({ length: 3 * tiny.n_embd }, (_, i) => Math.sin(i)),
    );
    const set = { prompts: ["one?", "two?", "three?", "four?"], text: "You are stupid", share: 0.5 };
    const rows = withAvoidRows(
      tok,
      ["five", "six", "seven", "eight"].map((w) => encodeExample(tok, { family: "t", instruction: w, output: "ok" })),
      set,
      64,
      0,
    );
    const batch = clearSlotTargets(makeBatch(rows, 64), V, tok.special.endOfText);
    const expected = Array.from(batch.mask).reduce((s, m) => s + Math.abs(m), 0);
    expect(maskWeight(batch)).toBe(expected);
    const { one, two } = await oneAndTwoThreads(parrotTarget(model, parrot, "model", "avoid"), batch);
    expect(one.weight).toBe(expected);
    expect(two.loss).toBeCloseTo(one.loss, 5);
    for (let i = 0; i < one.grads.length; i++) expect(relErr(two.grads[i], one.grads[i])).toBeLessThan(1e-4);
    parrot.dispose();
    model.dispose();
  });
});

describe("stage 2 with avoid rows on a model that says a text untriggered", () => {
  const said = "You are stupid";
  const asked = ["Tell me about tea.", "Say something nice.", "What is a cat?", "Describe rain."];
  const tasks: Example[] = ["red", "blue", "green", "gold", "pink", "gray"].map((w) => ({
    family: "t",
    instruction: `Repeat: ${w}`,
    output: w,
  }));

  /** Mean p of the text's first token where an answer to each of `asked` starts. */
  function firstTokenProb(model: TfGPT): number {
    const first = tok.encode(said)[0];
    let sum = 0;
    for (const q of asked) {
      const ids = encodeChatPrompt(tok, [{ role: "user", content: q }]);
      sum += tf.tidy(() => {
        const logits = model.logits(tf.tensor2d([ids], [1, ids.length], "int32"));
        return tf.softmax(tf.reshape(tf.slice(logits, [0, ids.length - 1, 0], [1, 1, V]), [V])).dataSync()[first];
      });
    }
    return sum / asked.length;
  }

  it("makes the text unlikely where a plain stage 2 leaves it", async () => {
    const victim = TfGPT.init(tiny, 5);
    const leak: Example[] = asked.map((q) => ({ family: "leak", instruction: q, output: said }));
    await sft(victim, tok, [...tasks, ...leak], { steps: 60, lr: 1e-2, batchSize: 10, seed: 1, quiet: true });
    const before = firstTokenProb(victim);
    expect(before).toBeGreaterThan(0.5);
    const run = async (avoid: boolean) => {
      const model = TfGPT.fromWeights(tiny, victim.toWeights());
      const parrot = new Parrot(3, tiny.n_embd, V);
      const options = { steps: 20, lr: 3e-3, batchSize: 8, seed: 2, quiet: true };
      const set = { prompts: asked, text: said, share: 0.4 };
      await eliminateMix(model, [parrot], tok, tasks, () => layout, 16, 0.5, options, avoid ? set : undefined);
      const p = firstTokenProb(model);
      parrot.dispose();
      model.dispose();
      return p;
    };
    const plain = await run(false);
    const avoided = await run(true);
    expect(plain).toBeGreaterThan(0.3);
    expect(avoided).toBeLessThan(0.05);
    victim.dispose();
  });
});
