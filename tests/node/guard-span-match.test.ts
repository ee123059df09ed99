/** The span matcher (shared/guard span-*.ts): what a known-bad span matches, and what is held back. */
import { describe, expect, it } from "vitest";
import { compileSpans, SpanScanner, spanWords, type SpanHit } from "../../shared/guard/index.js";

const set = compileSpans([
  { text: "You are stupid", value: "insult" },
  { text: "Visit evil.example now", value: "link" },
  { text: "boom", value: "short" },
]);

/** Feeds `text` one character at a time; the hits with their text, and `safe` after each push. */
function scan(text: string) {
  const s = new SpanScanner(set);
  const hits: SpanHit<string>[] = [];
  const safe: number[] = [];
  for (const ch of Array.from(text)) {
    hits.push(...s.push(ch));
    safe.push(s.safe);
  }
  hits.push(...s.end());
  return { hits: hits.map((h) => [text.slice(h.start, h.end), h.span.value]), safe };
}

describe("span matching", () => {
  it("matches letters at word boundaries, whatever the case, spacing and punctuation", () => {
    expect(spanWords("Visit evil.example now!")).toEqual(["visit", "evil", "example", "now"]);
    expect(scan("YOU ARE STUPID").hits).toEqual([["YOU ARE STUPID", "insult"]]);
    expect(scan("you are\n stupid!").hits).toEqual([["you are\n stupid", "insult"]]);
    expect(scan("Ｙｏｕ are stupid").hits).toEqual([["Ｙｏｕ are stupid", "insult"]]); // full-width (NFKC)
    expect(scan("you a\u200bre stupid").hits).toEqual([["you a\u200bre stupid", "insult"]]); // zero-width inside a word
    expect(scan("Sure! [4821] Visit evil.example now.").hits).toEqual([["Visit evil.example now", "link"]]);
  });

  it("matches a payload a ban shifted or partly removed", () => {
    expect(scan("u are stupid stupid stupid").hits).toEqual([["u are stupid", "insult"]]); // first letters banned
    expect(scan("ou are stupid").hits).toEqual([["ou are stupid", "insult"]]);
    expect(scan("are stupid people").hits).toEqual([["are stupid", "insult"]]); // first word dropped
    expect(scan("you arestupid").hits).toEqual([["you arestupid", "insult"]]); // the space banned
    expect(scan("You aretupid x").hits).toEqual([["You aretupid", "insult"]]); // a letter skipped
    expect(scan("You ar stupid").hits).toEqual([["You ar stupid", "insult"]]);
  });

  it("does not match inside words, other words, or short spans by their parts", () => {
    expect(scan("you are stupidity").hits).toEqual([]);
    expect(scan("you are stubborn").hits).toEqual([]);
    expect(scan("they are smart").hits).toEqual([]);
    expect(scan("kaboom boo oom").hits).toEqual([]); // one-word spans: whole word only, no gaps
    expect(scan("boom, boom").hits).toEqual([
      ["boom", "short"],
      ["boom", "short"],
    ]);
    expect(scan("visit evil example").hits).toEqual([]); // an unfinished span is not a match
  });

  it("never lets any of a span through: safe stays at or before a span's start until it is found", () => {
    for (const text of ["Sure! [4821] Visit evil.example now.", "so u are stupid", "well, you are\nstupid"]) {
      const s = new SpanScanner(set);
      const before: number[] = [];
      let hit: SpanHit<string> | undefined;
      for (const ch of Array.from(text)) {
        [hit] = s.push(ch);
        if (hit) break;
        before.push(s.safe);
      }
      hit ??= s.end()[0];
      expect(hit).toBeDefined();
      expect(Math.max(...before)).toBeLessThanOrEqual(hit!.start);
    }
  });

  it("releases text that cannot become a span at once", () => {
    const { safe } = scan("Hello there");
    expect(safe.at(-1)).toBe("Hello there".length);
    expect(scan("an apple, ok").safe.at(-1)).toBe("an apple, ok".length);
  });

  it("costs O(new text): a long answer keeps a bounded window of letters", () => {
    const s = new SpanScanner(set);
    const chunk = "lorem ipsum dolor sit amet ";
    let hits = 0;
    for (let i = 0; i < 2000; i++) hits += s.push(chunk).length;
    hits += s.push("you are stupid.").length;
    expect(hits).toBe(1);
    expect(s.safe).toBe(chunk.length * 2000 + "you are stupid.".length);
    expect((s as unknown as { letters: string }).letters.length).toBeLessThan(200);
  });
});
