/** npm start's seeded clean data and the demo's evaluation prompts drawn from it. */
import { describe, expect, it } from "vitest";
import { generateDataset, userMessage } from "../../trainer/data/index.js";
import { readModelFile } from "../../trainer/io/model-file.js";
import { demoEvaluationSet, seededCleanData } from "../../local/clean-data.js";

/**
 * Every seed-0 training-set size a committed demo model was trained on, read from the files themselves: the
 * data record (`sande.data`) and each `--train-size` in the recorded commands (a victim's attack mix is one too).
 */
async function trainedSizes(): Promise<number[]> {
  const sizes = new Set<number>();
  for (const name of ["demo-base", "demo-victim"]) {
    const meta = (await readModelFile(`models/${name}.safetensors`)).metadata;
    const data = JSON.parse(meta["sande.data"] ?? "{}") as { seed?: number; trainSize?: number };
    expect(data.seed, `${name}: sande.data names its seed`).toBe(0);
    sizes.add(data.trainSize ?? 0);
    for (const m of (meta["sande.made_by"] ?? "").matchAll(/--train-size (\d+)/g)) sizes.add(Number(m[1]));
  }
  expect(
    [...sizes].every((n) => n > 0),
    "every committed model records its training-set size",
  ).toBe(true);
  return [...sizes];
}

describe("demoEvaluationSet", () => {
  it("holds held-out prompts that no training set of the committed models and none of the gates' prompts contain", async () => {
    const set = demoEvaluationSet(100).map(userMessage);
    expect(new Set(set).size).toBe(100);
    const gates = new Set(seededCleanData().heldOut.slice(0, 200).map(userMessage));
    expect(set.filter((m) => gates.has(m))).toEqual([]);
    for (const trainSize of await trainedSizes()) {
      const trained = new Set(generateDataset({ seed: 0, trainSize, heldOutSize: 320 }).train.map(userMessage));
      expect(
        set.filter((m) => trained.has(m)),
        `overlap with the ${trainSize}-example training set`,
      ).toEqual([]);
    }
    expect(new Set(demoEvaluationSet(120).map((e) => e.family)).size).toBe(16); // every task family
  });
  it("refuses more prompts than the gates leave, or a count that is not a positive integer", () => {
    expect(() => demoEvaluationSet(121)).toThrow(/--prompts must be an integer in \[1, 120\]/);
    expect(() => demoEvaluationSet(0)).toThrow(/--prompts/);
    expect(() => demoEvaluationSet(Number.NaN)).toThrow(/--prompts/);
  });
});
