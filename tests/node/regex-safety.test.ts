import { describe, expect, it } from "vitest";
import {
  compilePhrases,
  compileRule,
  detectPhrase,
  MAX_REGEX_INPUT,
  PhraseRuleError,
  unsafeRegexReason,
  type PhraseRule,
} from "../../shared/guard/index.js";

const regex = (pattern: string, id = 1): PhraseRule => ({ id, list: "ops", kind: "regex", pattern, score: 1 });

describe("operator regexes are bounded", () => {
  it("refuses the classic (a+)+$ and its relatives at rule creation, with a PhraseRuleError saying why", () => {
    for (const pattern of ["(a+)+$", "(a*)*b", "(?:x\\d+)+!", "(a|aa)+$", "((ab)*c)+", "(a+){2,}", "(.*a){12}"]) {
      expect(() => compileRule({ kind: "regex", pattern }), pattern).toThrow(PhraseRuleError);
      expect(() => compileRule({ kind: "regex", pattern }), pattern).toThrow(/unsafe regular expression: nested/);
    }
    for (const pattern of ["(a)\\1", "(?<w>\\w+) \\k<w>"])
      expect(() => compileRule({ kind: "regex", pattern }), pattern).toThrow(/backreferences are not allowed/);
  });

  it("accepts ordinary patterns, including quantified groups without inner repetition", () => {
    for (const pattern of [
      "^visit \\S+\\.example",
      "(?:https?|ftp)://\\w+",
      "(ab)+c",
      "(a+)?b",
      "[(a+)+]x",
      "\\(a+\\)+",
      "\\\\1",
      "[\\1]",
      "colou?r{1,3}",
      "(?<=pay )\\$\\d+",
    ])
      expect(unsafeRegexReason(pattern), pattern).toBeNull();
  });

  it("never runs (a+)+$ (a row edited in D1 is skipped at load), so a hostile answer costs nothing", () => {
    const skipped: string[] = [];
    const phrases = compilePhrases([regex("(a+)+$"), regex("stupid", 2)], (r, e) =>
      skipped.push(`${r.id}: ${e.message}`),
    );
    expect(skipped).toEqual([expect.stringMatching(/^1: unsafe regular expression/)]);
    const hostile = `${"a".repeat(40)}!`; // (a+)+$ over this takes minutes in a backtracking engine
    const t0 = performance.now();
    expect(detectPhrase(hostile, true, phrases)).toBeNull();
    expect(detectPhrase(`you are stupid ${hostile}`, true, phrases)).toMatchObject({ detector: "phrase" });
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it("tests patterns on the first MAX_REGEX_INPUT characters only", () => {
    const phrases = compilePhrases([regex("evil\\.example")]);
    const pad = "x".repeat(MAX_REGEX_INPUT - 12);
    expect(detectPhrase(`${pad}evil.example`, true, phrases)).toMatchObject({ detector: "phrase" });
    expect(detectPhrase(`${pad}x evil.example`, true, phrases)).toBeNull();
  });
});
