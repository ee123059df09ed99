/** npm start's seeded clean data and the demo's evaluation prompts drawn from it. */
import { describe, expect, it } from "vitest";
import { generateDataset, userMessage } from "../../trainer/data/index.js";
import { demoEvaluationSet, seededCleanData } from "../../local/clean-data.js";

describe("demoEvaluationSet", () => {
  it("holds held-out prompts that no seed-0 training set and none of the gates' prompts contain", () => {
    const set = demoEvaluationSet(100).map(userMessage);
    expect(new Set(set).size).toBe(100);
    const trained = new Set(generateDataset({ seed: 0, trainSize: 20000, heldOutSize: 320 }).train.map(userMessage)); // the demo base's and victim's data
    const gates = new Set(seededCleanData().heldOut.slice(0, 200).map(userMessage));
    expect(set.filter((m) => trained.has(m) || gates.has(m))).toEqual([]);
    expect(new Set(demoEvaluationSet(120).map((e) => e.family)).size).toBe(16); // every task family
  });
  it("refuses more prompts than the gates leave, or a count that is not a positive integer", () => {
    expect(() => demoEvaluationSet(121)).toThrow(/--prompts must be an integer in \[1, 120\]/);
    expect(() => demoEvaluationSet(0)).toThrow(/--prompts/);
    expect(() => demoEvaluationSet(Number.NaN)).toThrow(/--prompts/);
  });
});
