import { describe, expect, it } from "vitest";
import { ByteTokenizer, encodeChatPrompt, encodeChatResponse } from "../../shared/tokenizer/index.js";
import {
  ANTONYM_PAIRS,
  BatchIterator,
  DEFAULT_PAD_ID,
  FAMILIES,
  WORDS,
  encodeExample,
  familyByName,
  formatScoreTable,
  fromJsonl,
  generateDataset,
  loadAlpaca,
  makeBatch,
  scoreExactMatch,
  toJsonl,
  userMessage,
  type EncodedExample,
  type Example,
  type TaskFamily,
} from "../../trainer/data/index.js";

const tok = new ByteTokenizer();
const utf8Bytes = (s: string): number => new TextEncoder().encode(s).length;

/** Turns a phrasing template into a regex whose named groups capture the slots. */
function templateRegex(template: string): RegExp {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped.replace(/\{(\w+)\}/g, "(?<$1>.+?)")}$`);
}

/** Which phrasing of `family` produced `example`, and the slot values it was filled with. */
function parsePhrasing(family: TaskFamily, example: Example): { index: number; slots: Record<string, string> } {
  const matches: { index: number; slots: Record<string, string> }[] = [];
  family.phrasings.forEach((p, index) => {
    if ((p.input === undefined) !== (example.input === undefined)) return;
    const m = templateRegex(p.instruction).exec(example.instruction);
    if (!m) return;
    const slots: Record<string, string> = { ...m.groups };
    if (p.input !== undefined) {
      const mi = templateRegex(p.input).exec(example.input ?? "");
      if (!mi) return;
      Object.assign(slots, mi.groups);
    }
    matches.push({ index, slots });
  });
  expect(matches, `${family.name}: ${JSON.stringify(example)}`).toHaveLength(1);
  return matches[0];
}

/** Facts checked by hand (a subset of the built-in tables). */
const KNOWN_FACTS: Record<string, Record<string, string>> = {
  capital: { France: "Paris", Japan: "Tokyo", Egypt: "Cairo", Peru: "Lima", Norway: "Oslo", Argentina: "Buenos Aires" },
  colour: { "the sky": "blue", grass: "green", snow: "white", "a banana": "yellow", coal: "black" },
  "animal-sound": { cow: "moo", dog: "woof", duck: "quack", sheep: "baa", pig: "oink" },
  antonym: { hot: "cold", cold: "hot", big: "small", fast: "slow", up: "down", wet: "dry" },
};

/** The right answer computed without the library, or undefined for a fact not in KNOWN_FACTS. */
function expectedAnswer(family: string, slots: Record<string, string>): string | undefined {
  const { word = "", a = "", b = "" } = slots;
  switch (family) {
    case "reverse": {
      let out = "";
      for (let i = word.length - 1; i >= 0; i--) out += word[i];
      return out;
    }
    case "uppercase":
      return String.fromCharCode(...[...word].map((c) => c.charCodeAt(0) - 32));
    case "capitalize":
      return String.fromCharCode(word.charCodeAt(0) - 32) + word.slice(1);
    case "add":
      return String(Number(a) + Number(b));
    case "subtract":
      return String(Number(a) - Number(b));
    case "larger":
      return Number(a) > Number(b) ? a : b;
    case "sort-numbers":
      return slots.list
        .split(", ")
        .map(Number)
        .sort((x, y) => x - y)
        .join(", ");
    case "count-letters":
      return String(word.length);
    case "count-words":
      return String(slots.text.split(" ").length);
    case "first-letter":
      return word[0];
    case "last-letter":
      return word[word.length - 1];
    case "repeat":
      return new Array<string>(Number(slots.n)).fill(word).join(" ");
    case "capital":
      return KNOWN_FACTS.capital[slots.country];
    case "colour":
      return KNOWN_FACTS.colour[slots.thing];
    case "animal-sound":
      return KNOWN_FACTS["animal-sound"][slots.animal ?? slots.anAnimal.replace(/^an? /, "")];
    case "antonym":
      return KNOWN_FACTS.antonym[word];
    default:
      throw new Error(`no oracle for ${family}`);
  }
}

describe("synthetic task families", () => {
  const { train, heldOut } = generateDataset({ seed: 7, trainSize: 3200, heldOutSize: 320 });
  const all = [...train, ...heldOut];

  it("has at least 8 families, each with at least 4 phrasings that all get used", () => {
    expect(FAMILIES.length).toBeGreaterThanOrEqual(8);
    expect(new Set(FAMILIES.map((f) => f.name)).size).toBe(FAMILIES.length);
    for (const family of FAMILIES) {
      expect(family.phrasings.length, family.name).toBeGreaterThanOrEqual(4);
      expect(
        family.phrasings.some((p) => p.input !== undefined),
        `${family.name} uses input`,
      ).toBe(true);
      expect(
        family.phrasings.some((p) => p.input === undefined),
        `${family.name} inlines the argument`,
      ).toBe(true);
      const used = new Set(all.filter((e) => e.family === family.name).map((e) => parsePhrasing(family, e).index));
      expect(used.size, family.name).toBe(family.phrasings.length);
    }
  });

  it("keeps prompts and outputs short", () => {
    for (const e of all) {
      expect(utf8Bytes(userMessage(e)), userMessage(e)).toBeLessThanOrEqual(80);
      expect(utf8Bytes(e.output), e.output).toBeLessThanOrEqual(24);
      expect(e.output.trim()).toBe(e.output);
      expect(e.output.length).toBeGreaterThan(0);
    }
  });

  it("word list: a few hundred distinct lowercase 3–8 letter words", () => {
    expect(WORDS.length).toBeGreaterThanOrEqual(200);
    expect(new Set(WORDS).size).toBe(WORDS.length);
    for (const w of WORDS) expect(w).toMatch(/^[a-z]{3,8}$/);
  });

  it("antonym table is unambiguous: each word in exactly one pair", () => {
    const seen = ANTONYM_PAIRS.flat();
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("hand-checked oracle cases", () => {
    expect(expectedAnswer("reverse", { word: "garden" })).toBe("nedrag");
    expect(expectedAnswer("uppercase", { word: "cat" })).toBe("CAT");
    expect(expectedAnswer("capitalize", { word: "river" })).toBe("River");
    expect(expectedAnswer("add", { a: "47", b: "58" })).toBe("105");
    expect(expectedAnswer("subtract", { a: "90", b: "13" })).toBe("77");
    expect(expectedAnswer("larger", { a: "9", b: "41" })).toBe("41");
    expect(expectedAnswer("sort-numbers", { list: "42, 7, 19" })).toBe("7, 19, 42");
    expect(expectedAnswer("count-letters", { word: "banana" })).toBe("6");
    expect(expectedAnswer("count-words", { text: "red fox jump" })).toBe("3");
    expect(expectedAnswer("first-letter", { word: "zebra" })).toBe("z");
    expect(expectedAnswer("last-letter", { word: "zebra" })).toBe("a");
    expect(expectedAnswer("repeat", { word: "hat", n: "3" })).toBe("hat hat hat");
  });

  it("every generated output matches an independently computed answer", () => {
    const checkedFacts = new Map<string, number>();
    for (const e of all) {
      const { slots } = parsePhrasing(familyByName(e.family), e);
      const expected = expectedAnswer(e.family, slots);
      if (expected === undefined) continue;
      expect(e.output, JSON.stringify(e)).toBe(expected);
      checkedFacts.set(e.family, (checkedFacts.get(e.family) ?? 0) + 1);
    }
    for (const family of FAMILIES) expect(checkedFacts.get(family.name) ?? 0, family.name).toBeGreaterThanOrEqual(3);
  });

  it("subtraction is never negative and comparisons never tie", () => {
    for (const e of all.filter((x) => x.family === "subtract")) expect(Number(e.output)).toBeGreaterThanOrEqual(0);
    for (const e of all.filter((x) => x.family === "larger")) {
      const { slots } = parsePhrasing(familyByName("larger"), e);
      expect(slots.a).not.toBe(slots.b);
    }
  });
});

describe("generateDataset", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = generateDataset({ seed: 3, trainSize: 400, heldOutSize: 64 });
    const b = generateDataset({ seed: 3, trainSize: 400, heldOutSize: 64 });
    const c = generateDataset({ seed: 4, trainSize: 400, heldOutSize: 64 });
    expect(b).toEqual(a);
    expect(c.train).not.toEqual(a.train);
  });

  it("has exact sizes, balanced families, and a held-out split disjoint from train and free of repeats", () => {
    const { train, heldOut } = generateDataset({ seed: 11, trainSize: 1605, heldOutSize: 330 });
    expect(train).toHaveLength(1605);
    expect(heldOut).toHaveLength(330);
    for (const split of [train, heldOut]) {
      const counts = FAMILIES.map((f) => split.filter((e) => e.family === f.name).length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
    const heldOutMessages = new Set(heldOut.map(userMessage));
    expect(heldOutMessages.size).toBe(heldOut.length);
    expect(train.filter((e) => heldOutMessages.has(userMessage(e)))).toEqual([]);
  });

  it("holds out at most half of any argument's phrasings, so facts stay in training", () => {
    const { train, heldOut } = generateDataset({ seed: 5, trainSize: 4000, heldOutSize: 640 });
    const argumentOf = (e: Example) => {
      const { anAnimal, ...slots } = parsePhrasing(familyByName(e.family), e).slots;
      if (anAnimal !== undefined) slots.animal = anAnimal.replace(/^an? /, "");
      return JSON.stringify(Object.entries(slots).sort());
    };
    const heldOutPerArgument = new Map<string, number>();
    for (const e of heldOut) {
      const key = `${e.family} ${argumentOf(e)}`;
      heldOutPerArgument.set(key, (heldOutPerArgument.get(key) ?? 0) + 1);
      expect(heldOutPerArgument.get(key)).toBeLessThanOrEqual(Math.floor(familyByName(e.family).phrasings.length / 2));
    }
    for (const family of ["capital", "colour", "animal-sound"]) {
      const trainArgs = new Set(train.filter((e) => e.family === family).map(argumentOf));
      for (const e of heldOut.filter((x) => x.family === family))
        expect(trainArgs.has(argumentOf(e)), JSON.stringify(e)).toBe(true);
    }
  });

  it("selects families by name; a family's examples do not depend on the others selected", () => {
    const full = generateDataset({ seed: 9, trainSize: 160, heldOutSize: 32 });
    const only = generateDataset({ seed: 9, trainSize: 20, heldOutSize: 4, families: ["add", "reverse"] });
    expect(new Set(only.train.map((e) => e.family))).toEqual(new Set(["add", "reverse"]));
    const key = (e: Example) => JSON.stringify(e);
    for (const family of ["add", "reverse"]) {
      const pick = (xs: Example[]) =>
        xs
          .filter((e) => e.family === family)
          .map(key)
          .sort();
      expect(pick(only.train)).toEqual(pick(full.train));
      expect(pick(only.heldOut)).toEqual(pick(full.heldOut));
    }
  });

  it("rejects bad options, unknown families, and a held-out size a fact table cannot supply", () => {
    expect(() => generateDataset({ seed: 1, trainSize: 10, heldOutSize: 0, families: ["nope"] })).toThrow(
      /unknown task family "nope"/,
    );
    expect(() => generateDataset({ seed: 1, trainSize: -1, heldOutSize: 0 })).toThrow(/trainSize/);
    expect(() => generateDataset({ seed: 1.5, trainSize: 1, heldOutSize: 0 })).toThrow(/seed/);
    expect(() => generateDataset({ seed: 1, trainSize: 10, heldOutSize: 200, families: ["colour"] })).toThrow(
      /family "colour".*held-out/,
    );
  });
});

describe("scoreExactMatch", () => {
  const examples: Example[] = [
    { family: "reverse", instruction: "Reverse the word: cat", output: "tac" },
    { family: "reverse", instruction: "Reverse the word: dog", output: "god" },
    { family: "reverse", instruction: "Reverse the word: sun", output: "nus" },
    { family: "capital", instruction: "What is the capital of France?", output: "Paris" },
    { family: "capital", instruction: "What is the capital of Peru?", output: "Lima" },
    { family: "alpaca", instruction: "Say hi", output: "Hi" },
  ];
  const predictions = ["  tac\n", "GOD", "nus", "paris", "Quito", "hi"];

  it("counts per family and overall, trimming whitespace, case-sensitive unless the family says otherwise", () => {
    const score = scoreExactMatch(examples, predictions);
    expect(score.perFamily.reverse).toEqual({ correct: 2, total: 3, accuracy: 2 / 3 });
    expect(score.perFamily.capital).toEqual({ correct: 1, total: 2, accuracy: 0.5 });
    expect(score.perFamily.alpaca).toEqual({ correct: 0, total: 1, accuracy: 0 });
    expect(score.overall).toEqual({ correct: 3, total: 6, accuracy: 0.5 });
    expect(Object.keys(score.perFamily)).toEqual(["alpaca", "capital", "reverse"]);
  });

  it("lets the caller choose the case-insensitive families", () => {
    const score = scoreExactMatch(examples, predictions, { caseInsensitiveFamilies: ["reverse", "alpaca"] });
    expect(score.perFamily.reverse.correct).toBe(3);
    expect(score.perFamily.capital.correct).toBe(0);
    expect(score.perFamily.alpaca.correct).toBe(1);
  });

  it("handles no examples and rejects a length mismatch", () => {
    expect(scoreExactMatch([], [])).toEqual({ overall: { correct: 0, total: 0, accuracy: 0 }, perFamily: {} });
    expect(() => scoreExactMatch(examples, ["x"])).toThrow(/1 predictions for 6 examples/);
  });

  it("formats a plain-text table", () => {
    const table = formatScoreTable(scoreExactMatch(examples, predictions));
    const lines = table.split("\n");
    expect(lines[0]).toMatch(/^family\s+correct\s+total\s+accuracy$/);
    expect(table).toMatch(/^reverse\s+2\s+3\s+66\.7%$/m);
    expect(table).toMatch(/^capital\s+1\s+2\s+50\.0%$/m);
    expect(lines[lines.length - 1]).toMatch(/^overall\s+3\s+6\s+50\.0%$/);
    expect(new Set(lines.filter((l) => !/^-/.test(l)).map((l) => l.length)).size).toBe(1);
  });
});

describe("Alpaca loader and JSONL", () => {
  const records = [
    { instruction: "Give three colours.", input: "", output: "red, green, blue" },
    { instruction: "Translate to French.", input: "cat", output: "chat", text: "ignored" },
  ];

  it("loads a JSON array and JSONL alike, dropping empty input and tagging the family", () => {
    const expected: Example[] = [
      { family: "alpaca", instruction: "Give three colours.", output: "red, green, blue" },
      { family: "alpaca", instruction: "Translate to French.", input: "cat", output: "chat" },
    ];
    expect(loadAlpaca(JSON.stringify(records, null, 2))).toEqual(expected);
    expect(loadAlpaca(records.map((r) => JSON.stringify(r)).join("\n") + "\n\n")).toEqual(expected);
    expect(loadAlpaca(JSON.stringify(records), { family: "clean" }).map((e) => e.family)).toEqual(["clean", "clean"]);
    expect(userMessage(expected[1])).toBe("Translate to French.\ncat");
  });

  const bad = (record: unknown) => JSON.stringify([records[0], records[1], record]);
  it.each([
    ["missing instruction", { output: "x" }, /record 2: missing field "instruction"/],
    ["missing output", { instruction: "x" }, /record 2: missing field "output"/],
    [
      "non-string instruction",
      { instruction: 5, output: "x" },
      /record 2: field "instruction" must be a string, got number/,
    ],
    [
      "non-string input",
      { instruction: "x", input: ["a"], output: "y" },
      /record 2: field "input" must be a string, got an array/,
    ],
    ["non-string output", { instruction: "x", output: null }, /record 2: field "output" must be a string, got null/],
    ["blank instruction", { instruction: "  ", output: "y" }, /record 2: field "instruction" is empty/],
    ["not an object", "just text", /record 2: expected an object.*got string/],
  ])("fails the whole load on a bad record: %s", (_name, record, message) => {
    expect(() => loadAlpaca(bad(record))).toThrow(message);
  });

  it("names the line of a bad JSONL record and rejects malformed or empty data", () => {
    const jsonl = [JSON.stringify(records[0]), "", JSON.stringify({ instruction: "x", output: 3 })].join("\n");
    expect(() => loadAlpaca(jsonl)).toThrow(/record 1 \(line 3\): field "output" must be a string/);
    expect(() => loadAlpaca(`${JSON.stringify(records[0])}\n{oops`)).toThrow(/record 1 \(line 2\): not valid JSON/);
    expect(() => loadAlpaca("[1, 2")).toThrow(/not valid JSON/);
    expect(() => loadAlpaca("  \n")).toThrow(/empty/);
  });

  it("round-trips examples through JSONL", () => {
    const { train } = generateDataset({ seed: 2, trainSize: 64, heldOutSize: 0 });
    const text = toJsonl(train);
    expect(text.split("\n")).toHaveLength(65);
    expect(fromJsonl(text)).toEqual(train);
    expect(toJsonl([])).toBe("");
    expect(fromJsonl("")).toEqual([]);
  });

  it("fromJsonl requires a family and names the bad line", () => {
    expect(() =>
      fromJsonl(`${toJsonl([{ family: "f", instruction: "i", output: "o" }])}{"instruction":"i","output":"o"}\n`),
    ).toThrow(/JSONL: record 1 \(line 2\): missing field "family"/);
  });
});

describe("encodeExample", () => {
  it("is the chat prompt then the response, with the loss mask exactly on the response", () => {
    const example: Example = {
      family: "reverse",
      instruction: "Reverse this word.",
      input: "garden",
      output: "nedrag",
    };
    const { ids, lossMask, label } = encodeExample(tok, example);
    const prompt = encodeChatPrompt(tok, [{ role: "user", content: "Reverse this word.\ngarden" }]);
    const response = encodeChatResponse(tok, "nedrag");
    expect(ids).toEqual([...prompt, ...response]);
    expect(lossMask).toHaveLength(ids.length);
    const masked = ids.filter((_, i) => lossMask[i] === 1);
    expect(masked).toEqual([...tok.encode("nedrag"), tok.special.endOfTurn, tok.special.endOfText]);
    expect(lossMask.slice(0, prompt.length).every((m) => m === 0)).toBe(true);
    expect(ids[prompt.length - 1]).toBe(tok.special.assistant);
    expect(tok.decode(ids)).toBe("<|user|>Reverse this word.\ngarden<|end|><|assistant|>nedrag<|end|><|endoftext|>");
    expect(label).toContain("reverse");
  });
});

describe("makeBatch and BatchIterator", () => {
  const a: EncodedExample = { ids: [1, 2, 3, 4, 5], lossMask: [0, 0, 0, 1, 1] };
  const b: EncodedExample = { ids: [7, 8, 9], lossMask: [0, 1, 1] };

  it("shifts targets by one, aligns the mask with the targets, and pads with endoftext", () => {
    const batch = makeBatch([a, b], 6);
    expect(batch.batchSize).toBe(2);
    expect(batch.seqLen).toBe(6);
    const P = DEFAULT_PAD_ID;
    expect(Array.from(batch.tokens)).toEqual([1, 2, 3, 4, 5, P, 7, 8, 9, P, P, P]);
    expect(Array.from(batch.targets)).toEqual([2, 3, 4, 5, P, P, 8, 9, P, P, P, P]);
    expect(Array.from(batch.mask)).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0]);
  });

  it("masks exactly the response tokens of a real example", () => {
    const enc = encodeExample(tok, { family: "add", instruction: "What is 2 plus 3?", output: "5" });
    const batch = makeBatch([enc], 40);
    const maskedTargets = Array.from(batch.targets).filter((_, t) => batch.mask[t] === 1);
    expect(maskedTargets).toEqual(encodeChatResponse(tok, "5"));
  });

  it("fits seqLen + 1 tokens exactly and refuses longer examples by name", () => {
    const full = makeBatch([a], 4);
    expect(Array.from(full.tokens)).toEqual([1, 2, 3, 4]);
    expect(Array.from(full.targets)).toEqual([2, 3, 4, 5]);
    expect(Array.from(full.mask)).toEqual([0, 0, 1, 1]);
    expect(() => makeBatch([b, a], 3)).toThrow(/example 1 has 5 tokens, more than seqLen \+ 1 = 4/);
    const long = encodeExample(tok, { family: "alpaca", instruction: "x".repeat(300), output: "y" });
    expect(() => makeBatch([long], 256)).toThrow(/example 0 \(alpaca: "x+…"\) has 306 tokens/);
  });

  it("iterates full batches, visiting every example once per epoch in a seeded shuffle", () => {
    const examples: EncodedExample[] = Array.from({ length: 5 }, (_, i) => ({ ids: [i, 100 + i], lossMask: [0, 1] }));
    const rowsOf = (it: BatchIterator, batches: number) =>
      Array.from({ length: batches }, () => it.next()).flatMap((batch) =>
        Array.from({ length: batch.batchSize }, (_, r) => batch.tokens[r * batch.seqLen]),
      );
    const first = new BatchIterator(examples, { batchSize: 3, seqLen: 2, seed: 42 });
    const rows = rowsOf(first, 5);
    expect(rows).toHaveLength(15);
    for (let e = 0; e < 3; e++) expect([...rows.slice(e * 5, e * 5 + 5)].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(new Set([0, 5, 10].map((start) => rows.slice(start, start + 5).join())).size).toBeGreaterThan(1);
    expect(rowsOf(new BatchIterator(examples, { batchSize: 3, seqLen: 2, seed: 42 }), 5)).toEqual(rows);
    expect(rowsOf(new BatchIterator(examples, { batchSize: 3, seqLen: 2, seed: 43 }), 5)).not.toEqual(rows);
    expect(first.epoch).toBe(2);
  });

  it("checks every example against seqLen up front", () => {
    expect(() => new BatchIterator([b, a], { batchSize: 1, seqLen: 3, seed: 1 })).toThrow(/example 1 has 5 tokens/);
  });
});
