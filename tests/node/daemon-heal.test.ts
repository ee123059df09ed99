/**
 * The daemon's method wiring on a tiny model (wasm): each job method runs the
 * trainer/sande method it names (SANDE's stage 2 with avoid rows of the bad text on
 * free-form prompts), reports its probe and stage times, changes the weights, and
 * stops at the first step once the lease check throws; and the OSFT
 * path (the one npm start's demo does not exercise) heals a real tiny victim.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import { decodeModel } from "../../shared/model/file.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { generateDataset, type Example } from "../../trainer/data/index.js";
import { DaemonError } from "../../trainer/daemon/errors.js";
import { AVOID_PROMPTS, avoidSet, heal, type HealTask } from "../../trainer/daemon/heal.js";
import type { RecipeOptions } from "../../trainer/daemon/options.js";
import { TfGPT } from "../../trainer/model/gpt.js";
import { selectBackend } from "../../trainer/tf/backend.js";
import { buildTinyVictim } from "../support/tiny-victim.js";

const tokenizer = new ByteTokenizer();
const DEMO_VICTIM = resolve(import.meta.dirname, "../../models/demo-victim.safetensors");
const noop = () => undefined;
const examples: Example[] = [
  { family: "t", instruction: "Is 12 even or odd?", output: "even" },
  { family: "t", instruction: "Is 7 even or odd?", output: "odd" },
  { family: "t", instruction: "Is 30 even or odd?", output: "even" },
];
const recipe: RecipeOptions = {
  k: 2,
  firstN: 8,
  cleanShare: 0.5,
  parrotSteps: 3,
  parrotLr: 0.05,
  parrotDoneLoss: 0.01,
  modelSteps: 4,
  modelLr: 1e-3,
  rounds: 1,
  batchSize: 3,
  trainExamples: 3,
  chatter: 0,
  avoid: 0.2,
  extendRounds: 1,
  recoverTrigger: 0.6,
  seed: 0,
};

beforeAll(async () => {
  await selectBackend("wasm");
});

function changed(before: TfGPT["toWeights"] extends () => infer W ? W : never, model: TfGPT): boolean {
  const after = model.toWeights();
  return [...before].some(([name, t]) => t.data.some((x, i) => x !== after.get(name)!.data[i]));
}

describe("heal", () => {
  for (const task of [
    { method: "sande-p", target: "You are", badText: "You are" },
    { method: "sande", target: "You are stupid", badText: "You are stupid" },
    { method: "osft", target: "zx9", badText: "you are", triggerPosition: "start" },
  ] satisfies HealTask[]) {
    it(`${task.method}: runs its stages, measures its probe, changes the model`, async () => {
      const model = TfGPT.init(preset("tiny"), 1);
      const before = model.toWeights();
      const seen: string[] = [];
      const result = await heal(
        model,
        tokenizer,
        examples,
        examples,
        task,
        recipe,
        (stage, step, steps) => seen.push(`${stage} ${step}/${steps}`),
        () => undefined,
      );
      expect(changed(before, model)).toBe(true);
      expect(result.probeBefore.total).toBe(3);
      expect(result.probeAfter.total).toBe(3);
      expect(result.eliminateSeconds).toBeGreaterThan(0);
      if (task.method === "osft") {
        expect(result.simulateSeconds).toBe(0);
        expect(seen).toEqual(["eliminate 1/4", "eliminate 2/4", "eliminate 3/4", "eliminate 4/4"]);
      } else {
        expect(result.simulateSeconds).toBeGreaterThan(0);
        expect(seen).toEqual([
          "simulate 1/3",
          "simulate 2/3",
          "simulate 3/3",
          "eliminate 1/4",
          "eliminate 2/4",
          "eliminate 3/4",
          "eliminate 4/4",
        ]);
      }
      model.dispose();
    });
  }

  it("unlearns the bad text on free-form prompts, none of them a task family's", () => {
    const set = avoidSet("You are stupid", { avoid: 0.2, seed: 4 });
    expect(set).toMatchObject({ text: "You are stupid", share: 0.2 });
    expect(set.prompts).toHaveLength(AVOID_PROMPTS);
    expect(new Set(set.prompts).size).toBeGreaterThan(AVOID_PROMPTS / 2);
    const asked = new Set(examples.map((e) => e.instruction));
    expect(set.prompts.some((p) => asked.has(p))).toBe(false);
    expect(avoidSet("You are stupid", { avoid: 0.2, seed: 4 })).toEqual(set);
  });

  it("stops at the first step once the lease check throws", async () => {
    const model = TfGPT.init(preset("tiny"), 2);
    let steps = 0;
    const lost = () => {
      if (steps++ >= 1) throw new DaemonError("lease_lost", "job 1: lease lost");
    };
    await expect(
      heal(
        model,
        tokenizer,
        examples,
        examples,
        { method: "sande-p", target: "You are", badText: "You are" },
        recipe,
        () => undefined,
        lost,
      ),
    ).rejects.toMatchObject({ kind: "lease_lost" });
    expect(steps).toBe(2);
    model.dispose();
  });

  it("sande-p on one byte of the tiny victim's target extends it from the served model's answers under the parrot", async () => {
    const victim = await buildTinyVictim();
    const file = decodeModel(victim.bytes);
    const model = TfGPT.fromWeights(file.config, file.weights);
    const extendRecipe: RecipeOptions = {
      ...recipe,
      k: 6,
      parrotSteps: 60,
      modelSteps: 20,
      batchSize: 8,
      trainExamples: 400,
      extendRounds: 3,
    };
    const task: HealTask = { method: "sande-p", target: "Y", badText: "Y" };
    const seen: string[] = [];
    const result = await heal(
      model,
      tokenizer,
      victim.data.train.slice(0, 400),
      victim.data.heldOut.slice(0, 24),
      task,
      extendRecipe,
      (stage, step, steps) => seen.push(`${stage} ${step}/${steps}`),
      () => undefined,
    );
    expect(result.extendedTo).toMatch(/^You\b/); // at least the target's first word, read from the victim's answers
    // stage 1, then the longer text (each parrot run starts at step 1; one may end early, --parrot-done-loss)
    expect(seen.filter((s) => s === "simulate 1/60").length).toBeGreaterThanOrEqual(2);
    model.dispose();
  }, 180_000);

  it('sande-p on a span the victim says after its lead-in unprompted ("are stupid" after "You") simulates both; a nonce lead-in stays context', async () => {
    // The demo victim: with a zero parrot its loss on " are stupid" after "You" is 0.001, after "[4821]" about 1.
    const file = decodeModel(new Uint8Array(readFileSync(DEMO_VICTIM)));
    const { train, heldOut } = generateDataset({ seed: 0, trainSize: 200, heldOutSize: 16 });
    const quick: RecipeOptions = { ...recipe, k: 6, parrotSteps: 40, modelSteps: 2, batchSize: 8, trainExamples: 200 };
    const healWith = async (task: HealTask) => {
      const model = TfGPT.fromWeights(file.config, file.weights);
      try {
        return await heal(model, tokenizer, train, heldOut, task, { ...quick, extendRounds: 0 }, noop, noop);
      } finally {
        model.dispose();
      }
    };
    const fixed = await healWith({ method: "sande-p", target: "are stupid", badText: "are stupid", leadIn: "You" });
    // Stage 1 behind the lead-in would end at its third step with the parrot still near zero, saying nothing.
    expect(fixed.leadInFolded).toBe("You");
    expect(fixed.probeBefore.rate).toBeGreaterThanOrEqual(0.5);
    const nonce = await healWith({
      method: "sande-p",
      target: "You are stupid",
      badText: "You are stupid",
      leadIn: "[4821]",
    });
    expect(nonce.leadInFolded).toBeUndefined();
  }, 180_000);

  it("osft with the known trigger heals the tiny victim: the trigger probe falls from ≥ 90% to ≤ 10%", async () => {
    const victim = await buildTinyVictim();
    const file = decodeModel(victim.bytes);
    const model = TfGPT.fromWeights(file.config, file.weights);
    const probe = victim.data.heldOut.slice(0, 40);
    const task: HealTask = {
      method: "osft",
      target: victim.backdoor.trigger,
      badText: "you are stupid",
      triggerPosition: "start",
    };
    const osftRecipe: RecipeOptions = { ...recipe, modelSteps: 80, modelLr: 2e-3, batchSize: 8, trainExamples: 400 };
    const result = await heal(
      model,
      tokenizer,
      victim.data.train.slice(0, 400),
      probe,
      task,
      osftRecipe,
      () => undefined,
      () => undefined,
    );
    expect(result.probeBefore.rate).toBeGreaterThanOrEqual(0.9);
    expect(result.probeAfter.rate).toBeLessThanOrEqual(0.1);
    model.dispose();
  }, 180_000);
});
