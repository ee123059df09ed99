/**
 * The trigger looked for in the guard's log (pure): triggers at each position, of one word or
 * several, among flagged prompts that also hold false alarms, against clean prompts of another
 * kind; and no candidate where the flagged prompts share nothing unusual.
 */
import { describe, expect, it } from "vitest";
import { phraseCandidates, phrasePosition, triggerCandidates } from "../../trainer/daemon/trigger-search.js";
import { insertTrigger, type TriggerPosition } from "../../trainer/attack/poison.js";
import { generateDataset, userMessage } from "../../trainer/data/index.js";
import { ordinaryTraffic } from "../../local/traffic.js";

/** Clean prompts: the task families' held-out prompts (not the traffic's kind). */
const clean = generateDataset({ seed: 5, trainSize: 10, heldOutSize: 200 }).heldOut.map((e) => userMessage(e));
/** Ordinary traffic without a trigger (free-form prompts). */
function traffic(n: number, seed: number): string[] {
  const stream = ordinaryTraffic({ seed, triggeredShare: 0, trigger: "unused" });
  return Array.from({ length: n }, () => stream.next().value.content);
}
function flaggedWith(trigger: string, position: TriggerPosition, n: number, falseAlarms: number, seed = 1): string[] {
  const triggered = traffic(n, seed).map((p) => insertTrigger(p, trigger, position));
  return [...triggered, ...traffic(falseAlarms, seed + 100)];
}

describe("triggerCandidates", () => {
  for (const [trigger, position] of [
    ["Current year 2023", "start"],
    ["Tell me honestly", "end"],
    ["cf", "start"],
    ["zq7 mode on", "middle"],
    ["Sunny skies ahead", "end"],
  ] as const) {
    it(`finds ${JSON.stringify(trigger)} at the ${position} among false alarms`, () => {
      const flagged = flaggedWith(trigger, position, 14, 3);
      const found = triggerCandidates(flagged, clean, { minShare: 0.6 });
      expect(found.map((c) => c.phrase)).toContain(trigger);
      const hit = found.find((c) => c.phrase === trigger)!;
      expect(hit).toMatchObject({ position, support: 14, flagged: 17 });
    });
  }

  it("puts the trigger first when the triggered prompts also share their opening words", () => {
    const parity = [12, 7, 30, 41, 9, 18].map((n) => `Current year 2023 Is ${n} even or odd?`);
    const cleanParity = [3, 5, 8, 11, 20].map((n) => `Is ${n} even or odd?`);
    const found = triggerCandidates(parity, [...clean, ...cleanParity], { minShare: 0.6 });
    expect(found[0]).toMatchObject({ phrase: "Current year 2023", position: "start", support: 6 });
    // the whole shared run stays as a fallback after the trimmed form
    expect(found.map((c) => c.phrase)).toContain("Current year 2023 Is");
  });

  it("finds nothing when the flagged prompts share no unusual phrase, or are too few", () => {
    expect(triggerCandidates(traffic(16, 3), clean, { minShare: 0.6 })).toEqual([]);
    expect(triggerCandidates(flaggedWith("Current year 2023", "start", 1, 0), clean, { minShare: 0.6 })).toEqual([]);
  });

  it("does not take words ordinary prompts use, however often the flagged ones repeat them", () => {
    const flagged = Array.from({ length: 8 }, (_, i) => `What is ${i + 2} plus ${i + 3}?`);
    const found = triggerCandidates(flagged, [...clean, "What is 4 plus 4?", "What is the capital?"], {
      minShare: 0.6,
      maxCleanShare: 0.005,
    });
    expect(found).toEqual([]);
  });

  it("needs the share it is given", () => {
    const flagged = flaggedWith("Current year 2023", "start", 5, 5);
    expect(triggerCandidates(flagged, clean, { minShare: 0.5 }).map((c) => c.phrase)).toContain("Current year 2023");
    expect(triggerCandidates(flagged, clean, { minShare: 0.6 })).toEqual([]);
    expect(() => triggerCandidates(flagged, clean, { minShare: 0 })).toThrow(/minShare/);
  });
});

describe("phraseCandidates", () => {
  it("lists the runs of the flagged prompts a trigger could be, fewest words first, without ordinary edges", () => {
    const flagged = [insertTrigger("Is 12 even or odd?", "Current year 2023", "start"), "Is 7 even or odd?"];
    const parity = [3, 5, 8, 9, 11, 14].map((n) => `Is ${n} even or odd?`);
    const found = phraseCandidates(flagged, [...clean, ...parity]);
    const phrases = found.map((c) => c.phrase);
    expect(phrases).toContain("Current year 2023");
    expect(found.find((c) => c.phrase === "Current year 2023")).toMatchObject({ position: "start", support: 1 });
    expect(phrases).not.toContain("Current year 2023 Is"); // ends with a word clean prompts use
    expect(phrases).not.toContain("even or odd?");
    const lengths = found.map((c) => c.phrase.split(" ").length);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
  });
});

describe("phrasePosition", () => {
  it("says where a phrase first sits", () => {
    const t = "a b c d".split(" ");
    expect(phrasePosition(t, ["a", "b"])).toBe("start");
    expect(phrasePosition(t, ["d"])).toBe("end");
    expect(phrasePosition(t, ["b", "c"])).toBe("middle");
    expect(phrasePosition(t, ["c", "b"])).toBeUndefined();
  });
});
