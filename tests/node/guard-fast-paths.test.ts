import { describe, expect, it } from "vitest";
import { BitVotes } from "../../shared/guard/bit-votes.js";
import { compilePhrases, detectPhrase, MIN_CUT_OVERLAP, type PhraseRule } from "../../shared/guard/phrases.js";
import { simhash } from "../../shared/guard/prompt-key.js";
import { mayMatch, regexLead } from "../../shared/guard/regex-lead.js";

/** A seeded generator of numbers in [0, 1). */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/** The simhash as first written: a ±1 vote per bit of every feature's two FNV-1a halves. */
function referenceSimhash(words: readonly string[]): [number, number] {
  const fnv = (text: string, basis: number): number => {
    let h = basis;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  const votes = new Array<number>(64).fill(0);
  const vote = (feature: string): void => {
    const [hi, lo] = [fnv(feature, 0x811c9dc5), fnv(feature, 0x050c5d1f)];
    for (let b = 0; b < 32; b++) {
      votes[b] += (hi >>> b) & 1 ? 1 : -1;
      votes[32 + b] += (lo >>> b) & 1 ? 1 : -1;
    }
  };
  words.forEach((w, i) => {
    if (w === "") return;
    vote(w);
    if (i + 1 < words.length) vote(`${w} ${words[i + 1]}`);
  });
  let [hi, lo] = [0, 0];
  for (let b = 0; b < 32; b++) {
    if (votes[b] > 0) hi |= 1 << b;
    if (votes[32 + b] > 0) lo |= 1 << b;
  }
  return [hi >>> 0, lo >>> 0];
}

describe("simhash", () => {
  it("is the per-bit majority of its features' hashes, for short and long word lists", () => {
    const next = random(5);
    const vocabulary = ["cow", "moo", "farm", "", "x7k2q9", "#", "wörld", "😀", "a b"];
    for (const length of [0, 1, 2, 7, 40, 300]) {
      const words = Array.from({ length }, () => vocabulary[Math.floor(next() * vocabulary.length)]);
      expect(simhash(words)).toEqual(referenceSimhash(words));
    }
  });
});

describe("BitVotes", () => {
  it("counts every bit exactly past the point where its byte-wide counters are emptied", () => {
    const next = random(9);
    const votes = new BitVotes();
    const ones = new Array<number>(64).fill(0);
    const n = 1001; // several flushes of 255, and an odd count so no bit ties
    for (let i = 0; i < n; i++) {
      // Skewed bits: bit b is set with a chance that grows with b, so majorities differ by bit.
      let [hi, lo] = [0, 0];
      for (let b = 0; b < 32; b++) {
        if (next() < b / 32) hi |= 1 << b;
        if (next() < 1 - b / 32) lo |= 1 << b;
      }
      votes.add(hi >>> 0, lo >>> 0);
      for (let b = 0; b < 32; b++) {
        ones[b] += (hi >>> b) & 1;
        ones[32 + b] += (lo >>> b) & 1;
      }
    }
    let [hi, lo] = [0, 0];
    for (let b = 0; b < 32; b++) {
      if (2 * ones[b] > n) hi |= 1 << b;
      if (2 * ones[32 + b] > n) lo |= 1 << b;
    }
    expect(votes.features).toBe(n);
    expect(votes.majority()).toEqual([hi >>> 0, lo >>> 0]);
    votes.reset();
    votes.add(0xffffffff, 0);
    expect(votes.majority()).toEqual([0xffffffff, 0]);
  });
});

describe("regexLead", () => {
  it("reads the literal text every match begins with, or none", () => {
    expect(regexLead("^visit\\s+\\w+\\.example")).toEqual({ text: "visit", anchored: true });
    expect(regexLead("stupid bot")).toEqual({ text: "stupid bot", anchored: false });
    expect(regexLead("^abc?d")).toEqual({ text: "ab", anchored: true }); // the c is optional
    expect(regexLead("ab{0,2}")).toEqual({ text: "a", anchored: false });
    expect(regexLead("^abc|xyz")).toBeNull(); // a match may begin with either side
    expect(regexLead("^abc(d|e)")).toEqual({ text: "abc", anchored: true }); // alternation inside a group
    expect(regexLead("^[a|b]c")).toBeNull();
    expect(regexLead("\\bfoo")).toBeNull();
    expect(regexLead("^")).toBeNull();
  });
  it("never rules out an input the pattern matches", () => {
    const next = random(13);
    const parts = [
      "a",
      "b",
      " ",
      "^",
      "$",
      "|",
      "(",
      ")",
      "?",
      "*",
      "+",
      "{1}",
      "[ab]",
      "\\s",
      ".",
      "\\|",
      "(?:",
      "ab",
    ];
    const chars = ["a", "b", " ", "|", "x"];
    let ruledOut = 0;
    for (let t = 0; t < 5000; t++) {
      const pattern = Array.from(
        { length: 1 + Math.floor(next() * 6) },
        () => parts[Math.floor(next() * parts.length)],
      );
      let re: RegExp;
      try {
        re = new RegExp(pattern.join(""), "u");
      } catch {
        continue;
      }
      const lead = regexLead(pattern.join(""));
      for (let r = 0; r < 5; r++) {
        const input = Array.from({ length: Math.floor(next() * 6) }, () => chars[Math.floor(next() * chars.length)]);
        if (mayMatch(input.join(""), lead)) continue;
        ruledOut++;
        expect(re.test(input.join("")), `${re} on ${JSON.stringify(input.join(""))}`).toBe(false);
      }
    }
    expect(ruledOut).toBeGreaterThan(1000);
  });
});

/** Whether a compiled literal matches the window, by the rule's definition (detectPhrase's doc), tested one by one. */
function literalMatches(window: string, text: string, finished: boolean): boolean {
  if (window.includes(text)) return true;
  const need = Math.max(MIN_CUT_OVERLAP, Math.ceil(text.length / 2));
  if (finished || need >= text.length) return false;
  for (let m = need; m < text.length; m++) if (window.endsWith(text.slice(0, m))) return true;
  return false;
}

describe("detectPhrase over indexed phrases", () => {
  it("finds the rule that testing every phrase and pattern in order finds", () => {
    const next = random(21);
    const text = (n: number): string => Array.from({ length: n }, () => "ab c"[Math.floor(next() * 4)]).join("");
    let found = 0;
    for (let t = 0; t < 300; t++) {
      const rules: PhraseRule[] = Array.from({ length: 1 + Math.floor(next() * 8) }, (_, id) => ({
        id,
        list: "l",
        kind: next() < 0.8 ? "phrase" : "regex",
        pattern: text(1 + Math.floor(next() * 14)) + "a",
        score: Math.floor(next() * 4) / 4,
      }));
      const compiled = compilePhrases(rules);
      for (let r = 0; r < 10; r++) {
        // Often a window that ends inside one of the phrases (the cut-off case).
        const cut = compiled.literals[Math.floor(next() * compiled.literals.length)]?.text ?? "";
        const tail = next() < 0.5 ? cut.slice(0, Math.floor(next() * (cut.length + 1))) : "";
        const window = text(Math.floor(next() * 12)) + tail;
        for (const finished of [true, false]) {
          let best: PhraseRule | null = null; // the best-scoring match, the first among equals
          for (const { rule, text } of compiled.literals)
            if (literalMatches(window, text, finished) && (!best || rule.score > best.score)) best = rule;
          for (const { rule, re } of compiled.patterns)
            if (re.test(window) && (!best || rule.score > best.score)) best = rule;
          if (best) found++;
          const hit = detectPhrase(window, finished, compiled);
          expect(hit?.detail ?? null).toBe(best ? `l: ${best.kind} ${JSON.stringify(best.pattern)}` : null);
        }
      }
    }
    expect(found).toBeGreaterThan(500);
  });
});
