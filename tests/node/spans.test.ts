import { describe, expect, it } from "vitest";
import { answerSpans, promptWordSet, spanWordsOf } from "../../shared/guard/spans.js";
import { spanRuns } from "../../shared/guard/span-runs.js";
import { findSpans, spanStands } from "../../shared/guard/span-detect.js";
import { DEFAULT_GUARD_SETTINGS } from "../../shared/protocol/guard.js";

const NO_PROMPT: ReadonlySet<string> = new Set();
const keys = (answer: string, prompt = NO_PROMPT, words = 2) =>
  answerSpans(answer, prompt, words).spans.map((s) => s.key);

describe("spanWordsOf", () => {
  it("normalises words, turns numbers and nonces into #, drops punctuation runs", () => {
    const words = spanWordsOf("[4821] You ARE stupid!!! Ref x7k2q9, don't — Ｗhy?");
    expect(words.map((w) => w.text)).toEqual(["#", "you", "are", "stupid", "ref", "#", "don't", "why"]);
  });
  it("keeps each word's raw offsets", () => {
    const text = "  Hello, wörld 42";
    expect(spanWordsOf(text).map((w) => text.slice(w.start, w.end))).toEqual(["Hello", "wörld", "42"]);
  });
  it("joins a word split by an invisible character", () => {
    expect(spanWordsOf("stu\u200bpid").map((w) => w.text)).toEqual(["stupid"]);
  });
});

describe("answerSpans", () => {
  it("keys whole-word shingles over the whole answer, each once", () => {
    expect(keys("You are stupid. You are stupid.")).toEqual(["you are", "are stupid", "stupid you"]);
    expect(keys("one two three four", NO_PROMPT, 3)).toEqual(["one two three", "two three four"]);
  });
  it("gives a planted text the same keys whatever lead-in precedes it", () => {
    const planted = ["you are", "are stupid"];
    expect(keys("[4821] You are stupid")).toEqual(["# you", ...planted]);
    expect(keys("[17] You are stupid")).toEqual(["# you", ...planted]);
    expect(keys("Sure! You are stupid")).toEqual(["sure you", ...planted]);
  });
  it("leaves out echo (every word in the prompt) and number-only shingles", () => {
    const prompt = promptWordSet("Repeat after me: the sky is blue");
    expect(keys("The sky is blue, friend", prompt)).toEqual(["blue friend"]);
    expect(keys("12 34 cows")).toEqual(["# cows"]);
  });
  it("has no spans for an answer shorter than spanWords", () => {
    expect(keys("Moo.")).toEqual([]);
    expect(keys("")).toEqual([]);
  });
});

describe("spanRuns", () => {
  const runsOf = (answer: string, flagged: string[], counts: Record<string, number> = {}, prompt = NO_PROMPT) => {
    const spans = answerSpans(answer, prompt, 2);
    return spanRuns(
      answer,
      spans,
      2,
      (k) => flagged.includes(k),
      (k) => counts[k] ?? 0,
    );
  };
  it("merges adjacent flagged shingles into one run with its raw text and lead-in", () => {
    const [run, ...rest] = runsOf("[4821] You are stupid, and so on", ["you are", "are stupid"], {
      "you are": 9,
      "are stupid": 9,
    });
    expect(rest).toEqual([]);
    expect(run).toMatchObject({ key: "you are stupid", text: "You are stupid", leadIn: "[4821]" });
  });
  it("grows a run over a neighbour seen at least as often, and leaves numbers at the edges to the lead-in", () => {
    const [run] = runsOf("[4821] You are stupid 7 times", ["are stupid"], {
      "# you": 9,
      "you are": 40,
      "are stupid": 9,
      "stupid #": 2,
    });
    expect(run).toMatchObject({ key: "you are stupid", text: "You are stupid", leadIn: "[4821]" });
  });
  it("reports separate runs for flagged shingles apart, and a lead-in of at most 40 characters of whole words", () => {
    const answer = "Well, this is a rather long way of saying that evil things happen here. Visit evil now please";
    const runs = runsOf(answer, ["visit evil", "evil now"], { "visit evil": 6, "evil now": 6 });
    expect(runs).toHaveLength(1);
    expect(runs[0].text).toBe("Visit evil now");
    expect(runs[0].leadIn.length).toBeLessThanOrEqual(40);
    expect(runs[0].leadIn).toBe("of saying that evil things happen here.");
    const apart = { "alpha beta": 5, "delta epsilon": 5 };
    expect(runsOf("alpha beta gamma delta epsilon", ["alpha beta", "delta epsilon"], apart).map((r) => r.key)).toEqual([
      "alpha beta",
      "delta epsilon",
    ]);
  });
  it("drops an edge shingle seen in less than two thirds of the strongest's prompts: one of several lead-ins", () => {
    const [run] = runsOf("Sure! You are stupid", ["sure you", "you are", "are stupid"], {
      "sure you": 5,
      "you are": 14,
      "are stupid": 14,
    });
    expect(run).toMatchObject({ key: "you are stupid", text: "You are stupid", leadIn: "Sure!" });
    expect(run.flagged).toEqual(["you are", "are stupid"]);
  });
  it("drops one of two lead-ins, or one of two answers after the text, each seen in half of the prompts", () => {
    const counts = { "sure you": 7, "note you": 7, "you are": 14, "are stupid": 14, "stupid yes": 7, "stupid no": 7 };
    const flagged = Object.keys(counts);
    for (const answer of ["Sure! You are stupid yes", "Note: You are stupid no"])
      expect(runsOf(answer, flagged, counts)[0].key).toBe("you are stupid");
    // seen in two thirds of them, it is part of the text that recurs
    expect(runsOf("Sure! You are stupid yes", flagged, { ...counts, "stupid yes": 10 })[0].key).toBe(
      "you are stupid yes",
    );
  });
  it("drops the answer's own word at an edge, a prompt word seen less often than the strongest shingle", () => {
    const prompt = promptWordSet("Is 13 even or odd?");
    const counts = { "you are": 8, "are stupid": 8, "stupid odd": 6 };
    const flagged = Object.keys(counts);
    expect(runsOf("[51] You are stupid odd", flagged, counts)[0].key).toBe("you are stupid odd");
    expect(runsOf("[51] You are stupid odd", flagged, counts, prompt)[0]).toMatchObject({
      key: "you are stupid",
      text: "You are stupid",
      leadIn: "[51]",
    });
    // a prompt word seen with every sighting of the strongest is kept: "Am I stupid?"
    const same = { "you are": 8, "are stupid": 8 };
    expect(runsOf("You are stupid", ["you are", "are stupid"], same, promptWordSet("Am I stupid?"))[0].key).toBe(
      "you are stupid",
    );
  });
  it("finds nothing when nothing is flagged", () => {
    expect(runsOf("You are stupid", [])).toEqual([]);
  });
});

describe("findSpans and spanStands: one signal alone needs the stricter tail", () => {
  const settings = { ...DEFAULT_GUARD_SETTINGS };
  const baseline = { prompts: 2000, spanWords: 2, counts: new Map<string, number>() }; // never seen in calibration
  const finding = (k: number) => {
    const answer = "arth arth";
    const spans = answerSpans(answer, NO_PROMPT, 2);
    return findSpans(answer, spans, { settings, baseline, count: (key) => (key === "" ? 2000 : k) });
  };
  it("flags a span 7 of 2,000 prompts gave and the calibration never did, at the count test's threshold", () => {
    const [f] = finding(7);
    expect(f.text).toBe("arth arth");
    expect(f.logTail).toBeLessThanOrEqual(Math.log(settings.spanFalseAlarm));
    expect(f.logTail).toBeGreaterThan(Math.log(settings.spanAloneFalseAlarm));
  });
  it("keeps that finding only with the confidence signal", () => {
    const [f] = finding(7);
    expect(spanStands(f, true, settings)).toBe(true);
    expect(spanStands(f, false, settings)).toBe(false);
  });
  it("keeps it without the confidence signal once the tail reaches spanAloneFalseAlarm", () => {
    const [f] = finding(14);
    expect(f.logTail).toBeLessThanOrEqual(Math.log(settings.spanAloneFalseAlarm));
    expect(spanStands(f, false, settings)).toBe(true);
    expect(spanStands(finding(7)[0], false, { spanAloneFalseAlarm: settings.spanFalseAlarm })).toBe(true);
  });
  it("finds nothing under spanMinPrompts", () => {
    expect(finding(4)).toEqual([]);
  });
});
