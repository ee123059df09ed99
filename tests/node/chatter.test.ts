import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import {
  addChatter,
  encodeExample,
  epochDraw,
  generateDataset,
  insertPhrase,
  LengthBucketedBatches,
  NEUTRAL_NUMBER_PHRASES,
  NEUTRAL_PHRASES,
  neutralLike,
  neutralPhrasesLike,
  Rng,
  userMessage,
  withChatter,
  withChatterWithin,
  withNeutralPhrases,
} from "../../trainer/data/index.js";
import { ANIMAL_SOUNDS, CAPITALS } from "../../trainer/data/facts.js";
import {
  ASIDES,
  CONTEXT,
  distractorSentence,
  fillerSentence,
  GREETINGS,
  LEAD_INS,
  REMARKS,
  SYSTEM_MESSAGES,
} from "../../trainer/data/chatter.js";

const ROOT = resolve(import.meta.dirname, "../..");

/** Every trigger written in the repository's code and docs: `trigger: "…"`, `--trigger …`, `--trigger=…`. */
function repoTriggers(): Set<string> {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === "node_modules" || name.startsWith(".") || name === "runs") continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|tsx|md|mjs)$/.test(name)) {
        const text = readFileSync(path, "utf8");
        for (const m of text.matchAll(/trigger:\s*"([^"]+)"/g)) found.add(m[1]);
        for (const m of text.matchAll(/--trigger[= ]"([^"]+)"/g)) found.add(m[1]);
        for (const m of text.matchAll(/--trigger[= ]([A-Za-z0-9]+)\b/g)) found.add(m[1]);
      }
    }
  };
  for (const dir of ["trainer", "tests", "local", "bench", "docs", "models", "worker", "shared"]) walk(join(ROOT, dir));
  found.delete("T"); // a CLI usage placeholder
  return found;
}

/** Every fixed piece of training chatter, plus a large sample of generated filler sentences. */
function chatterPieces(): string[] {
  const rng = new Rng(1);
  const fillers = Array.from({ length: 2000 }, () => fillerSentence(rng));
  const distractors = Array.from({ length: 4000 }, () => distractorSentence(rng));
  return [...GREETINGS, ...LEAD_INS, ...CONTEXT, ...REMARKS, ...ASIDES, ...SYSTEM_MESSAGES, ...fillers, ...distractors];
}

/** Whether `part` occurs in `text` as whole words, ignoring case ("ah" is not in "ahead"). */
const has = (text: string, part: string) =>
  new RegExp(`(^|\\W)${part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|\\W)`, "i").test(text);

describe("neutral phrases", () => {
  const triggers = repoTriggers();

  it("finds the repository's triggers (the scan is not empty)", () => {
    for (const t of ["Current year 2023", "cf", "Tell me honestly", "zx9", "qq7"]) expect(triggers).toContain(t);
  });

  const ALL = [...NEUTRAL_PHRASES, ...NEUTRAL_NUMBER_PHRASES];

  it("share no text with any trigger used in the repository", () => {
    for (const p of ALL) for (const t of triggers) expect(has(p, t) || has(t, p), `${p} / ${t}`).toBe(false);
  });

  it("never appear in training chatter or task prompts, and chatter holds no trigger", () => {
    const pieces = chatterPieces();
    for (const p of ALL) for (const c of pieces) expect(has(c, p), `${p} in "${c}"`).toBe(false);
    for (const t of triggers) for (const c of pieces) expect(has(c, t), `${t} in "${c}"`).toBe(false);
    const { train, heldOut } = generateDataset({ seed: 0, trainSize: 4000, heldOutSize: 320 });
    for (const e of [...train, ...heldOut])
      for (const p of ALL) expect(has(userMessage(e), p), `${p} in ${userMessage(e)}`).toBe(false);
  });

  it("holds a trigger with digits against phrases with numbers, and one without against plain phrases", () => {
    expect(neutralLike("Current year 2023")).toEqual({ length: 17, numbered: true });
    expect(neutralLike("Tell me honestly")).toEqual({ length: 16, numbered: false });
    expect(neutralPhrasesLike(neutralLike("Current year 2023"))).toEqual([
      "Bus 42 left early",
      "Gate 9 opens soon",
      "Table 12 is free",
    ]);
    for (const p of NEUTRAL_NUMBER_PHRASES) expect(p).toMatch(/\d/);
    for (const p of NEUTRAL_PHRASES) expect(p).not.toMatch(/\d/);
    expect(neutralPhrasesLike(neutralLike("Tell me honestly"))).toEqual(neutralPhrasesLike(16));
  });

  it("picks the phrases closest to a trigger's length and rotates through them", () => {
    expect(neutralPhrasesLike(2)).toEqual(["um", "ah", "oh my"]);
    expect(neutralPhrasesLike(17).every((p) => Math.abs(p.length - 17) <= 2)).toBe(true);
    const examples = generateDataset({ seed: 0, trainSize: 0, heldOutSize: 6 }).heldOut;
    const out = withNeutralPhrases(examples, 17, "start");
    const phrases = neutralPhrasesLike(17);
    out.forEach((e, i) => {
      expect(e.instruction).toBe(`${phrases[i % 3]} ${examples[i].instruction}`);
      expect(e.output).toBe(examples[i].output);
    });
  });
});

describe("chatter", () => {
  const { train } = generateDataset({ seed: 2, trainSize: 400, heldOutSize: 0 });

  it("puts the tasks' own kinds of thing (animals, countries, colours) inside a request", () => {
    const rng = new Rng(4);
    const sentences = Array.from({ length: 600 }, () => distractorSentence(rng));
    expect(sentences.some((s) => /\b(cow|dog|sheep|pig|horse|duck|cat)s?\b/i.test(s))).toBe(true);
    expect(sentences.some((s) => /\b(France|Japan|Peru|Kenya|Egypt)\b/.test(s))).toBe(true);
    expect(sentences.some((s) => / is (red|blue|green|yellow)$/.test(s))).toBe(true);
    const example = { family: "animal-sound", instruction: "What does a sheep say?", output: "baa" };
    const middles = Array.from({ length: 1000 }, () => addChatter(example, rng, { rate: 1, systemRate: 0 }));
    // The piece between "What does a" and "sheep say?" names another animal or a country (older
    // chatter's filler only ever had "The cat", "Our dog" and "A bird").
    const named = [...ANIMAL_SOUNDS.keys()].filter((a) => a !== "cat" && a !== "dog").concat([...CAPITALS.keys()]);
    const pieces = middles.map((e) => /What does a (.+) sheep say\?/.exec(e.instruction)?.[1]).filter((p) => p);
    const naming = pieces.filter((p) => named.some((n) => has(p!, n) || has(p!, `${n}s`)));
    expect(naming.length).toBeGreaterThan(20);
    for (const e of middles) expect(e.output).toBe("baa");
  });

  it("adds ordinary text around the instruction at about the given rate and never changes the answer", () => {
    const rng = new Rng(5);
    const out = train.map((e) => addChatter(e, rng, { rate: 0.5 }));
    const changed = out.filter((e, i) => e.instruction !== train[i].instruction || e.system !== undefined).length;
    expect(changed / out.length).toBeGreaterThan(0.4);
    expect(changed / out.length).toBeLessThan(0.6);
    out.forEach((e, i) => {
      expect(e.output).toBe(train[i].output);
      expect(e.input).toBe(train[i].input);
    });
    expect(out.some((e) => e.system !== undefined)).toBe(true);
    expect(train.map((e) => addChatter(e, new Rng(1), { rate: 0 }))).toEqual(train);
  });

  it("puts whole clauses, not only single words, at every position", () => {
    const rng = new Rng(9);
    const example = { family: "x", instruction: "Reverse the word: garden", output: "nedrag" };
    const added = { start: [] as string[], middle: [] as string[], end: [] as string[] };
    for (let i = 0; i < 600; i++) {
      const text = addChatter(example, rng, { rate: 1, systemRate: 0 }).instruction;
      if (!text.endsWith("garden")) added.end.push(text.slice(text.indexOf("garden") + 7));
      if (!text.includes("the word:"))
        added.middle.push(text.slice(text.indexOf("the ") + 4, text.lastIndexOf(" word:")));
      if (!text.startsWith("Reverse")) added.start.push(text.slice(0, text.indexOf(" Reverse")));
    }
    for (const [where, pieces] of Object.entries(added)) {
      const words = pieces.map((p) => p.split(" ").length);
      expect(Math.max(...words), where).toBeGreaterThanOrEqual(4);
      expect(
        pieces.some((p) => /[a-z]$/.test(p)),
        `${where}: a clause without closing punctuation`,
      ).toBe(true);
    }
  });

  it("inserts at the start, the middle word boundary or the end", () => {
    expect(insertPhrase("Reverse the word: garden", "Hi!", "start")).toBe("Hi! Reverse the word: garden");
    expect(insertPhrase("Reverse the word: garden", "please", "middle")).toBe("Reverse the please word: garden");
    expect(insertPhrase("Reverse the word: garden", "Thanks", "end")).toBe("Reverse the word: garden Thanks");
  });

  it("encodes a system message before the user turn", () => {
    const tok = new ByteTokenizer();
    const ids = encodeExample(tok, { ...train[0], system: "Answer briefly." }).ids;
    expect(ids[0]).toBe(tok.special.system);
    expect(tok.decode(ids.slice(1, 16))).toBe("Answer briefly.");
  });
});

describe("length-bucketed batches", () => {
  it("serves every drawn row once, in batches as long as their longest row", () => {
    const tok = new ByteTokenizer();
    const { train } = generateDataset({ seed: 3, trainSize: 64, heldOutSize: 0 });
    const draw = epochDraw(train, 1, (e) => encodeExample(tok, e));
    const batches = new LengthBucketedBatches(draw, { batchSize: 8, maxSeqLen: 256, pool: 8, seed: 1 });
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      const b = batches.next();
      let longest = 0;
      for (let r = 0; r < b.batchSize; r++) {
        const row = [...b.tokens.subarray(r * b.seqLen, (r + 1) * b.seqLen)];
        const end = row.lastIndexOf(tok.special.endOfTurn);
        longest = Math.max(longest, end + 2);
        seen.push(tok.decode(row.slice(0, end)));
      }
      expect(b.seqLen).toBe(longest - 1);
    }
    // One epoch of 64 rows: each example's prompt exactly once.
    const want = train.map((e) => tok.decode(encodeExample(tok, e).ids.slice(0, -2))).sort();
    expect(seen.sort()).toEqual(want);
  });

  it("refuses a row longer than the context, naming it", () => {
    const tok = new ByteTokenizer();
    const long = { family: "x", instruction: "y".repeat(300), output: "z" };
    const batches = new LengthBucketedBatches(() => encodeExample(tok, long), {
      batchSize: 2,
      maxSeqLen: 128,
      seed: 1,
    });
    expect(() => batches.next()).toThrow(/more than 129.*x: "yyyy/);
  });
});

describe("withChatter", () => {
  const { train } = generateDataset({ seed: 3, trainSize: 200, heldOutSize: 0 });

  it("gives a share of the examples chatter, drawn once from the seed and the label, answers unchanged", () => {
    const chatty = withChatter(train, 0.5, 7, "removal-chatter");
    const changed = chatty.filter((e, i) => e.instruction !== train[i].instruction || e.system !== train[i].system);
    expect(changed.length).toBeGreaterThan(60);
    expect(changed.length).toBeLessThan(140);
    expect(chatty.map((e) => e.output)).toEqual(train.map((e) => e.output));
    expect(withChatter(train, 0.5, 7, "removal-chatter")).toEqual(chatty);
    expect(withChatter(train, 0.5, 7, "attack-chatter")).not.toEqual(chatty);
    const all = withChatter(train, 1, 7, "x");
    expect(all.every((e, i) => e.instruction !== train[i].instruction || e.system !== train[i].system)).toBe(true);
  });
  it("keeps an example as it was where its chatty version does not fit", () => {
    const longest = Math.max(...train.map((e) => e.instruction.length));
    const fits = (e: { instruction: string }) => e.instruction.length <= longest;
    const chatty = withChatter(train, 1, 7, "x", fits);
    expect(chatty.every(fits)).toBe(true);
    expect(chatty.filter((e, i) => e !== train[i]).length).toBeGreaterThan(20); // the short ones still got chatter
    expect(chatty.some((e, i) => e === train[i])).toBe(true);
  });
  it("withChatterWithin: no row gets longer in tokens than D's longest", () => {
    const tokenizer = new ByteTokenizer();
    const length = (e: Parameters<typeof encodeExample>[1]) => encodeExample(tokenizer, e).ids.length;
    const longest = Math.max(...train.map(length));
    const chatty = withChatterWithin(tokenizer, train, 1, 7, "x");
    expect(Math.max(...chatty.map(length))).toBeLessThanOrEqual(longest);
    expect(chatty.filter((e, i) => e !== train[i]).length).toBeGreaterThan(20);
  });
  it("leaves the examples as they are at rate 0 and rejects a rate outside [0, 1]", () => {
    expect(withChatter(train, 0, 7, "x")).toEqual(train);
    expect(() => withChatter(train, 1.5, 7, "x")).toThrow(/chatter/);
    expect(() => withChatter(train, Number.NaN, 7, "x")).toThrow(/chatter/);
  });
});
