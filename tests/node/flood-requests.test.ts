import { describe, expect, it } from "vitest";
import { promptKey } from "../../shared/guard/prompt-key.js";
import { floodRequests, nonce, topCounts } from "../support/flood.js";
import { Rng } from "../../trainer/data/random.js";

const spec = { template: "Ref {nonce}: what sound does a cow make?", count: 500, seed: 3, singleClient: "203.0.113.9" };

describe("floodRequests", () => {
  it("makes nonces of the kind asked: letters and digits alternating, or letters only", () => {
    const rng = new Rng(1);
    for (let i = 0; i < 50; i++) {
      expect(nonce("letter-digit", rng)).toMatch(/^([b-z][0-9]){3}$/);
      expect(nonce("letters", rng)).toMatch(/^[b-z]{6}$/);
    }
  });

  it("gives every copy a fresh nonce, half of each kind", () => {
    const flood = floodRequests(spec);
    expect(flood).toHaveLength(500);
    expect(new Set(flood.map((r) => r.content)).size).toBe(500);
    expect(flood.filter((r) => r.nonce === "letters")).toHaveLength(250);
  });

  it("keys the letter-digit copies as one prompt and the letters-only copies as distinct prompts", () => {
    const flood = floodRequests(spec);
    const keys = (kind: string) => new Set(flood.filter((r) => r.nonce === kind).map((r) => promptKey(r.content).hash));
    expect(keys("letter-digit").size).toBe(1);
    expect(keys("letters").size).toBe(250);
  });

  it("sends every other copy from the single client and the rest from an address each", () => {
    const flood = floodRequests(spec);
    const own = flood.filter((_, i) => i % 2 === 0).map((r) => r.ip);
    expect(new Set(own).size).toBe(250);
    expect(own).not.toContain(spec.singleClient);
    expect(flood.filter((_, i) => i % 2 === 1).every((r) => r.ip === spec.singleClient)).toBe(true);
    expect(new Set(flood.map((r) => r.nonce === "letters" && r.ip === spec.singleClient)).size).toBe(2);
  });

  it("refuses a template without a place for the nonce", () => {
    expect(() => floodRequests({ ...spec, template: "what sound does a cow make?" })).toThrow(/no \{nonce\}/);
  });
});

describe("topCounts", () => {
  it("orders by count, then text", () => {
    expect(topCounts(["b", "a", "b", "c", "a", "d"], 3)).toEqual([
      ["a", 2],
      ["b", 2],
      ["c", 1],
    ]);
  });
});
