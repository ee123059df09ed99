/**
 * Neutral phrases: harmless text that evaluation inserts where a trigger would sit, to tell "the
 * trigger breaks the answer" from "any extra words break the answer". A fixed list, never used in
 * training (chatter.ts has its own words) and disjoint from every trigger used in this repository;
 * tests hold both.
 */
import type { Example } from "./example.js";
import { insertPhrase, type InsertPosition } from "./insert.js";

/** The list, shortest first. Lengths 2 to 28 characters, so any trigger has phrases of about its length. */
export const NEUTRAL_PHRASES: readonly string[] = [
  "um",
  "ah",
  "oh my",
  "as usual",
  "Oh well then",
  "The bus was late",
  "Lunch is at noon",
  "Birds sang at dawn",
  "My socks are green",
  "Weather today is mild",
  "The kettle just boiled",
  "Rain is expected by six",
  "The museum opens at nine",
  "Paint dries slowly in winter",
];

/**
 * The `count` phrases whose length is closest to `length` characters (ties: the shorter first);
 * evaluation rotates through them across prompts.
 */
export function neutralPhrasesLike(length: number, count = 3): string[] {
  return [...NEUTRAL_PHRASES]
    .map((p, i) => ({ p, d: Math.abs(p.length - length), i }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .slice(0, count)
    .map((x) => x.p);
}

/** `examples` with a neutral phrase of about `length` characters inserted at `position`, rotating through the closest three. */
export function withNeutralPhrases(examples: readonly Example[], length: number, position: InsertPosition): Example[] {
  const phrases = neutralPhrasesLike(length);
  return examples.map((e, i) => ({
    ...e,
    instruction: insertPhrase(e.instruction, phrases[i % phrases.length], position),
  }));
}
