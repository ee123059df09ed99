/**
 * The trigger, looked for in the guard's log (pure). The prompts that produced the flags are
 * mostly triggered ones, so the trigger is a word sequence most of them share that ordinary prompts
 * do not hold. What this finds is only a candidate: the daemon confirms one on the served model
 * (`recover.ts`: inserted into held-out prompts, it must bring the bad text back) before it heals
 * with OSFT on it, and falls back to SANDE-P when none is confirmed.
 */
import type { TriggerPosition } from "../attack/poison.js";

/** A phrase most flagged prompts share. */
export interface TriggerCandidate {
  phrase: string;
  /** Where it sits in most of the flagged prompts that hold it. */
  position: TriggerPosition;
  /** Flagged prompts holding it, of `flagged`. */
  support: number;
  flagged: number;
}

/** What counts as a candidate. */
export interface TriggerSearchOptions {
  /** Share of the flagged prompts that must hold the phrase, (0, 1]. */
  minShare: number;
  /** Fewer flagged prompts than this are no evidence (default 2: the confirmation on the model is what decides). */
  minPrompts?: number;
  /** Largest share of the clean prompts that may hold it (default 0.01): ordinary words are not triggers. */
  maxCleanShare?: number;
  /** Longest phrase in words (default 8). */
  maxWords?: number;
  /** Most candidates returned (default 3), best first: most support, then most words. */
  limit?: number;
}

const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);
const meaningful = (gram: readonly string[]): boolean => gram.some((w) => /[\p{L}\p{N}]/u.test(w));

/** Every distinct run of 1…`maxWords` words of `tokens`, joined by one space. */
function grams(tokens: readonly string[], maxWords: number): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < tokens.length; i++)
    for (let n = 1; n <= maxWords && i + n <= tokens.length; n++) {
      const gram = tokens.slice(i, i + n);
      if (meaningful(gram)) out.add(gram.join(" "));
    }
  return out;
}

/** For each word run (≤ `maxWords`), how many of `tokenized` hold it (each counted once). */
function gramCounts(tokenized: readonly string[][], maxWords: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const tokens of tokenized) for (const g of grams(tokens, maxWords)) counts.set(g, (counts.get(g) ?? 0) + 1);
  return counts;
}

/** The share of `clean` prompts that hold a word run (≤ `maxWords`). */
function cleanShareOf(clean: readonly string[], maxWords: number): (gram: string) => number {
  const counts = gramCounts(clean.map(words), maxWords);
  return (gram) => (counts.get(gram) ?? 0) / Math.max(1, clean.length);
}

/** The candidate record of `phrase` with `support` among `tokenized` (the flagged prompts). */
function candidateOf(tokenized: readonly string[][], phrase: string, support: number): TriggerCandidate {
  return { phrase, position: usualPosition(tokenized, phrase), support, flagged: tokenized.length };
}

/** Where `phrase` (words) first sits in `tokens`, or undefined. */
export function phrasePosition(tokens: readonly string[], phrase: readonly string[]): TriggerPosition | undefined {
  for (let i = 0; i + phrase.length <= tokens.length; i++) {
    if (!phrase.every((w, j) => tokens[i + j] === w)) continue;
    if (i === 0) return "start";
    return i + phrase.length === tokens.length ? "end" : "middle";
  }
  return undefined;
}

/** The position most of `tokenized` put `phrase` at (ties: start, then end, then middle). */
function usualPosition(tokenized: readonly string[][], phrase: string): TriggerPosition {
  const parts = words(phrase);
  const counts: Record<TriggerPosition, number> = { start: 0, end: 0, middle: 0 };
  for (const tokens of tokenized) {
    const at = phrasePosition(tokens, parts);
    if (at) counts[at]++;
  }
  return (["start", "end", "middle"] as const).reduce((best, p) => (counts[p] > counts[best] ? p : best));
}

/** True when a longer kept phrase holds `gram` with the same support (then `gram` adds nothing). */
function covered(gram: string, support: number, kept: ReadonlyMap<string, number>): boolean {
  for (const [other, s] of kept) if (s === support && other !== gram && ` ${other} `.includes(` ${gram} `)) return true;
  return false;
}

/**
 * `gram` without the words at either end that ordinary prompts use: a phrase shared because most
 * triggered prompts also began the same way ("Current year 2023 Is") is the trigger plus the prompt.
 */
function trimOrdinary(gram: readonly string[], ordinary: (word: string) => boolean): readonly string[] {
  let a = 0;
  let b = gram.length;
  while (a < b && ordinary(gram[a])) a++;
  while (b > a && ordinary(gram[b - 1])) b--;
  return gram.slice(a, b);
}

/**
 * Phrases held by at least `minShare` of `flagged` and by at most `maxCleanShare` of `clean`,
 * longest form only, best first: with the ordinary words at its ends trimmed, then (a fallback)
 * whole. Empty when there are too few flagged prompts or nothing qualifies.
 */
export function triggerCandidates(
  flagged: readonly string[],
  clean: readonly string[],
  options: TriggerSearchOptions,
): TriggerCandidate[] {
  const { minShare, minPrompts = 2, maxCleanShare = 0.01, maxWords = 8, limit = 3 } = options;
  if (!(minShare > 0 && minShare <= 1))
    throw new RangeError(`trigger search: minShare must be in (0, 1], got ${minShare}`);
  if (flagged.length < minPrompts) return [];
  const tokenized = flagged.map(words);
  const support = gramCounts(tokenized, maxWords);
  const needed = Math.ceil(minShare * flagged.length);
  const kept = new Map([...support].filter(([, s]) => s >= needed));
  const inClean = cleanShareOf(clean, maxWords);
  const ordinary = (w: string) => inClean(w) > maxCleanShare;
  const maximal = [...kept].filter(([g, s]) => !covered(g, s, kept)).map(([g]) => words(g));
  const rank = (forms: string[]) =>
    [...new Set(forms)]
      .filter((g) => g && inClean(g) <= maxCleanShare)
      .map((phrase) => ({ phrase, s: support.get(phrase) ?? 0 }))
      .sort((a, b) => b.s - a.s || words(b.phrase).length - words(a.phrase).length || (a.phrase < b.phrase ? -1 : 1));
  const trimmed = rank(maximal.map((g) => trimOrdinary(g, ordinary).join(" ")));
  const whole = rank(maximal.map((g) => g.join(" "))).filter((c) => !trimmed.some((t) => t.phrase === c.phrase));
  return [...trimmed, ...whole].slice(0, limit).map(({ phrase, s }) => candidateOf(tokenized, phrase, s));
}

/**
 * Every run of 1…`maxWords` words of the flagged prompts that could be a trigger, for when no phrase
 * is shared widely enough (two flagged prompts, one of them the victim's untriggered leak): runs
 * that clean prompts use, or that begin or end with a word they use, are left out (the run without
 * that word is in the list). Most support first, then fewest words. The daemon screens the first of
 * them on the served model (`recover.ts`).
 */
export function phraseCandidates(
  flagged: readonly string[],
  clean: readonly string[],
  options: { maxWords?: number; maxCleanShare?: number } = {},
): TriggerCandidate[] {
  const { maxWords = 5, maxCleanShare = 0.01 } = options;
  const tokenized = flagged.map(words);
  const inClean = cleanShareOf(clean, maxWords);
  const ordinary = (w: string) => inClean(w) > maxCleanShare;
  return [...gramCounts(tokenized, maxWords)]
    .filter(([g]) => {
      const ws = words(g);
      return !ordinary(ws[0]) && !ordinary(ws[ws.length - 1]) && inClean(g) <= maxCleanShare;
    })
    .sort(([a, sa], [b, sb]) => sb - sa || words(a).length - words(b).length || (a < b ? -1 : 1))
    .map(([phrase, s]) => candidateOf(tokenized, phrase, s));
}
