import { describe, expect, it } from "vitest";
import { AUTO_HEAL_WHEN, evidenceOf, healPolicy, type FindingEvidence } from "../../shared/guard/index.js";
import type { DetectorHit, DetectorName } from "../../shared/protocol/guard.js";

const none: FindingEvidence = { phrase: false, statistic: false, confidence: false };
const hit = (detector: DetectorName): DetectorHit => ({ detector, score: 1, detail: "" });

describe("healPolicy", () => {
  it("heals automatically on an operator phrase rule, whatever else the evidence says", () => {
    expect(healPolicy({ ...none, phrase: true })).toBe("auto");
    expect(healPolicy({ phrase: true, statistic: true, confidence: false })).toBe("auto");
  });

  it("heals automatically on the statistic with a confidence signal", () => {
    expect(healPolicy({ ...none, statistic: true, confidence: true })).toBe("auto");
  });

  it("asks an operator for a count alone, confidence alone, or nothing", () => {
    expect(healPolicy({ ...none, statistic: true })).toBe("operator");
    expect(healPolicy({ ...none, confidence: true })).toBe("operator");
    expect(healPolicy(none)).toBe("operator");
  });

  it("agrees with its rule table on every combination", () => {
    for (let bits = 0; bits < 8; bits++) {
      const e: FindingEvidence = { phrase: !!(bits & 1), statistic: !!(bits & 2), confidence: !!(bits & 4) };
      const expected = AUTO_HEAL_WHEN.some((all) => all.every((s) => e[s])) ? "auto" : "operator";
      expect(healPolicy(e)).toBe(expected);
    }
  });
});

describe("evidenceOf", () => {
  it("collects the signals of a finding's events, across events", () => {
    expect(evidenceOf([[hit("recurrence")], [hit("confidence")]])).toEqual({
      phrase: false,
      statistic: true,
      confidence: true,
    });
    expect(evidenceOf([[hit("phrase"), hit("recurrence")]])).toEqual({
      phrase: true,
      statistic: true,
      confidence: false,
    });
    expect(evidenceOf([[], []])).toEqual(none);
  });
});
