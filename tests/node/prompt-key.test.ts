import { describe, expect, it } from "vitest";
import { NearDuplicates } from "../../shared/guard/near-duplicates.js";
import { hammingDistance, normalisePrompt, promptKey } from "../../shared/guard/prompt-key.js";
import { sha256Hex } from "../../shared/store/sha256.js";

/** A random nonce of letters and digits (seeded). */
function nonces(count: number, seed = 7): string[] {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from({ length: count }, () => {
    let id = "";
    while (id.length < 6 || !/\d/.test(id) || !/[a-z]/.test(id))
      id = Array.from({ length: 6 }, () => chars[next() % 36]).join("");
    return id;
  });
}

const LONG =
  "You are a helpful assistant for a farm supply shop. Always answer in plain words, never use lists, and keep to the facts the customer gives you. Be kind and brief. If the question is about an animal's health, tell the customer to ask a vet as well. If it is about prices, say that prices change and they should call the shop. A customer named NAME writes: I recently bought two cows and I want to know QUESTION, and whether I should worry if it is quiet.";
const ask = (name: string, question = "what sound a healthy cow makes in the morning") =>
  LONG.replace("NAME", name).replace("QUESTION", question);

describe("promptKey", () => {
  it("normalises case, width, numbers, nonces, punctuation and spaces, then hashes with sha256", () => {
    expect(normalisePrompt("Ref X7K2Q9:  What SOUND does a cow make?!")).toBe("ref # what sound does a cow make");
    expect(normalisePrompt("Ｒｅｆ 4821 — what sound does a cow make")).toBe("ref # what sound does a cow make");
    // Short numbers are content, not nonces: two questions that differ in one are two prompts.
    expect(normalisePrompt("Is 12 even or odd?")).toBe("is 12 even or odd");
    expect(promptKey("Is 12 even or odd?").hash).not.toBe(promptKey("Is 57 even or odd?").hash);
    const key = promptKey("Ref x7k2q9: what sound does a cow make?");
    expect(key.hash).toBe(sha256Hex("ref # what sound does a cow make"));
  });
  it("gives a nonce flood of one question one hash", () => {
    const hashes = new Set(nonces(500).map((n) => promptKey(`Ref ${n}: what sound does a cow make?`).hash));
    expect(hashes.size).toBe(1);
  });
  it("gives genuinely different prompts different hashes, far apart in simhash", () => {
    const prompts = [
      "What sound does a cow make?",
      "What is the capital of France?",
      "How do I bake bread at home?",
      "How do I bake a cake at home?",
      "Write a haiku about the sea.",
    ];
    const keys = prompts.map(promptKey);
    expect(new Set(keys.map((k) => k.hash)).size).toBe(prompts.length);
    for (let i = 0; i < keys.length; i++)
      for (let j = i + 1; j < keys.length; j++)
        expect(hammingDistance(keys[i].simhash, keys[j].simhash)).toBeGreaterThan(3);
  });
});

describe("NearDuplicates", () => {
  it("maps a long prompt that differs in one word to the hash first seen", () => {
    const seen = new NearDuplicates(64);
    const first = seen.canonical(promptKey(ask("Alice")));
    const same = ["Carol", "Dmitri", "Frank", "Judy"].map((n) => seen.canonical(promptKey(ask(n))));
    expect(same).toEqual(same.map(() => first));
    expect(seen.canonical(promptKey(ask("Alice")))).toBe(first);
  });
  it("keeps genuinely different prompts apart, long or short", () => {
    const seen = new NearDuplicates(64);
    const other = [
      ask("Alice", "how much hay a healthy goat eats in winter"),
      ask("Alice", "how to tell if a hen is laying"),
      "What sound does a cow make?",
      "What is the capital of France?",
    ];
    const hashes = [ask("Alice"), ...other].map((p) => seen.canonical(promptKey(p)));
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(hashes).toEqual([ask("Alice"), ...other].map((p) => promptKey(p).hash));
  });
  it("is bounded: the least recently used prompt is forgotten first", () => {
    const seen = new NearDuplicates(2);
    const a = promptKey(ask("Alice"));
    seen.canonical(a);
    seen.canonical(promptKey("What is the capital of France?"));
    seen.canonical(promptKey("Write a haiku about the sea."));
    expect(seen.size).toBe(2);
    const carol = promptKey(ask("Carol"));
    expect(seen.canonical(carol)).toBe(carol.hash); // Alice was forgotten
    expect(() => new NearDuplicates(0)).toThrow(/capacity/);
  });
});
