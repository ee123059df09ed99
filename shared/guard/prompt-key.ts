import { sha256Hex } from "../store/sha256.js";
import { BitVotes } from "./bit-votes.js";
import { spanWordsOf, type SpanWord } from "./spans.js";

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
  return normalisePromptWords(promptText, spanWordsOf(promptText));
}

/** {@link normalisePrompt} from the text's span words ({@link spanWordsOf}), for a caller that has them already. */
export function normalisePromptWords(promptText: string, words: readonly SpanWord[]): string {
  return promptWords(promptText, words).join(" ");
}

/** The normalised prompt's words (see {@link normalisePrompt}), from the prompt's span words. */
function promptWords(promptText: string, words: readonly SpanWord[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const raw = w.text === "#" && w.end - w.start <= 3 ? promptText.slice(w.start, w.end) : "";
    out.push(raw !== "" && SHORT_NUMBER.test(raw) ? raw : w.text);
  }
  return out;
}

const SHORT_NUMBER = /^[0-9]{1,3}$/;

/** The prompt's hash and simhash. */
export function promptKey(promptText: string): PromptKey {
  return promptKeyFromWords(promptText, spanWordsOf(promptText));
}

/** {@link promptKey} from the prompt's span words ({@link spanWordsOf}), for a caller that has them already. */
export function promptKeyFromWords(promptText: string, words: readonly SpanWord[]): PromptKey {
  const list = promptWords(promptText, words);
  const normalised = list.join(" ");
  // A word NFKC turned into several (a ligature with spaces in it) counts as its parts, as in the normalised text.
  const features = list.some((w) => w.includes(" ")) ? normalised.split(" ") : list;
  return { normalised, hash: sha256Hex(normalised), simhash: simhash(features) };
}

/**
 * Charikar's simhash of a word list: features are the words and the pairs of neighbouring
 * words, each hashed to 64 bits (two FNV-1a variants); bit b is set when more features
 * have it set than not. Texts that share most features land a few bits apart.
 */
export function simhash(words: readonly string[]): Simhash {
  const votes = VOTES;
  votes.reset();
  for (let i = 0; i < words.length; i++) {
    if (words[i] === "") continue;
    const hi = fnvRaw(words[i], BASIS_HI);
    const lo = fnvRaw(words[i], BASIS_LO);
    votes.add(fmix(hi), fmix(lo));
    if (i + 1 < words.length) {
      // The pair "a b": FNV-1a goes on from a's state through the space and b.
      votes.add(fmix(fnvRaw(words[i + 1], fnvStep(hi, SPACE))), fmix(fnvRaw(words[i + 1], fnvStep(lo, SPACE))));
    }
  }
  return votes.majority();
}

/** Reused by every (synchronous) simhash. */
const VOTES = new BitVotes();
const BASIS_HI = 0x811c9dc5;
const BASIS_LO = 0x050c5d1f;
const SPACE = 32;

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

/** FNV-1a's state after `text`'s UTF-16 code units, from state `h` (no final mixing). */
function fnvRaw(text: string, h: number): number {
  for (let i = 0; i < text.length; i++) h = fnvStep(h, text.charCodeAt(i));
  return h;
}

function fnvStep(h: number, code: number): number {
  return Math.imul(h ^ code, 0x01000193);
}

/** Final avalanche (murmur3's fmix32): FNV's low bits mix poorly for short inputs. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
