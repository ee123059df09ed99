import { sha256Hex } from "../store/sha256.js";
import { spanWordsOf } from "./spans.js";

/**
 * What the guard counts prompts by: near-duplicates of one prompt count once, so a flood
 * of one question with a nonce in front ("Ref x7k2q9: what sound does a cow make?")
 * is one prompt, not hundreds.
 */

/** A prompt's keys. */
export interface PromptKey {
  /** The prompt normalised (NFKC, lower case, numbers and nonces → "#", punctuation dropped, spaces collapsed). */
  normalised: string;
  /** sha256 hex of `normalised`: the prompt hash everything counts by. */
  hash: string;
  /** 64-bit simhash over the normalised words and word pairs, as [high 32 bits, low 32 bits]. */
  simhash: Simhash;
}

/** A 64-bit simhash as two unsigned 32-bit halves. */
export type Simhash = readonly [number, number];

/**
 * The normalised prompt: its words (see shared/guard/spans.ts) joined by one space, except that
 * a number of at most three digits keeps its value. Such numbers are content ("Is 12 even or
 * odd?" and "Is 57 even or odd?" are two questions); longer numbers and words that mix letters
 * and digits are what nonces and reference ids look like ("Ref 48213:", "x7k2q9"), and are "#".
 */
export function normalisePrompt(promptText: string): string {
  return spanWordsOf(promptText)
    .map((w) => {
      const raw = promptText.slice(w.start, w.end);
      return w.text === "#" && SHORT_NUMBER.test(raw) ? raw : w.text;
    })
    .join(" ");
}

const SHORT_NUMBER = /^[0-9]{1,3}$/;

/** The prompt's hash and simhash. */
export function promptKey(promptText: string): PromptKey {
  const normalised = normalisePrompt(promptText);
  return { normalised, hash: sha256Hex(normalised), simhash: simhash(normalised.split(" ")) };
}

/**
 * Charikar's simhash of a word list: features are the words and the pairs of neighbouring
 * words, each hashed to 64 bits (two FNV-1a variants); bit b is set when more features
 * have it set than not. Texts that share most features land a few bits apart.
 */
export function simhash(words: readonly string[]): Simhash {
  const votes = new Int32Array(64);
  const vote = (feature: string): void => {
    const hi = fnv1a(feature, 0x811c9dc5);
    const lo = fnv1a(feature, 0x050c5d1f);
    for (let b = 0; b < 32; b++) {
      votes[b] += (hi >>> b) & 1 ? 1 : -1;
      votes[32 + b] += (lo >>> b) & 1 ? 1 : -1;
    }
  };
  for (let i = 0; i < words.length; i++) {
    if (words[i] === "") continue;
    vote(words[i]);
    if (i + 1 < words.length) vote(`${words[i]} ${words[i + 1]}`);
  }
  let hi = 0;
  let lo = 0;
  for (let b = 0; b < 32; b++) {
    if (votes[b] > 0) hi |= 1 << b;
    if (votes[32 + b] > 0) lo |= 1 << b;
  }
  return [hi >>> 0, lo >>> 0];
}

/** Bits in which two simhashes differ. */
export function hammingDistance(a: Simhash, b: Simhash): number {
  return popcount(a[0] ^ b[0]) + popcount(a[1] ^ b[1]);
}

function popcount(x: number): number {
  let v = x >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** 32-bit FNV-1a of a string's UTF-16 code units, from `basis`. */
function fnv1a(text: string, basis: number): number {
  let h = basis;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche (murmur3's fmix32): FNV's low bits mix poorly for short inputs.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
