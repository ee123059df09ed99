/**
 * The guard's "regenerate" at any position: a logit mask that forbids completing a
 * known-bad span wherever the answer is. Each span is banned as several token sequences
 * (its case forms, its first word partly or wholly dropped, as a ban on its first token
 * makes a model write "u are stupid" for "You are stupid"); when the answer ends with
 * the first `depth` tokens of a sequence, starting at a word boundary, the next token
 * of that sequence is banned. Pure.
 */
import type { LogitMask } from "../inference/index.js";
import type { Tokenizer } from "../tokenizer/index.js";
import { matchStarts, spanWords } from "./span-text.js";

/** A sequence to ban and how far an answer must follow it before its next token is banned. */
export interface BannedSequence {
  tokens: readonly number[];
  depth: number;
}

/**
 * The texts a span is banned as: as given, lower case, capitalised and upper case, each also with its
 * first word's first letters dropped and without its first word (as {@link matchStarts}
 * allows a match to begin).
 */
export function spanVariants(text: string): string[] {
  const base = text.trim();
  const lower = base.toLowerCase();
  const forms = new Set([base, lower, lower.charAt(0).toUpperCase() + lower.slice(1), base.toUpperCase()]);
  const out = new Set<string>();
  const words = spanWords(base);
  const starts = matchStarts(words);
  for (const form of forms) {
    for (const from of starts) {
      const cut = letterOffset(form, from, words[0]?.length ?? 0);
      if (cut !== null && cut < form.length) out.add(form.slice(cut));
    }
  }
  return [...out].filter((v) => v.length > 0);
}

/**
 * Where in `text` the match beginning `from` letters in starts: inside the first word for
 * from < its length; for from = its length, at the second word (separators skipped).
 * Null when the text's first word is not made of single-unit letters (then only from = 0).
 */
function letterOffset(text: string, from: number, firstWord: number): number | null {
  if (from === 0) return 0;
  const lead = /^[^\p{L}\p{N}]*/u.exec(text)![0].length;
  const word = /^[\p{L}\p{N}]*/u.exec(text.slice(lead))![0];
  if (word.length !== firstWord) return null;
  if (from < firstWord) return lead + from;
  const next = /^[^\p{L}\p{N}]*/u.exec(text.slice(lead + word.length))![0].length;
  return lead + word.length + next;
}

/** Token sequences for a span's variants, each with its ban depth. */
export function bannedSequences(text: string, tokenizer: Tokenizer): BannedSequence[] {
  const isWord = wordTokens(tokenizer);
  return spanVariants(text).map((v) => {
    const tokens = tokenizer.encode(v);
    return { tokens, depth: banDepth(tokens, isWord) };
  });
}

/**
 * How many of a sequence's tokens an answer must have written before the next one is
 * banned: the first separator at or past half the sequence (so the answer must change
 * there, where the span matcher reads separators as nothing), else half of it; 0 for a
 * one-token span (banned outright at word starts).
 */
export function banDepth(tokens: readonly number[], isWord: (token: number) => boolean): number {
  const half = Math.min(Math.ceil(tokens.length / 2), tokens.length - 1);
  for (let k = half; k < tokens.length; k++) if (!isWord(tokens[k])) return k;
  return half;
}

/** Whether a token's text ends in a letter or digit (or a UTF-8 continuation), cached per token. */
export function wordTokens(tokenizer: Tokenizer): (token: number) => boolean {
  const cache = new Map<number, boolean>();
  return (token) => {
    let v = cache.get(token);
    if (v === undefined) {
      const bytes = tokenizer.bytes([token]);
      const last = bytes.length ? bytes[bytes.length - 1] : -1;
      v = last >= 0x80 || (last >= 48 && last <= 57) || (last >= 65 && last <= 90) || (last >= 97 && last <= 122);
      cache.set(token, v);
    }
    return v;
  };
}

/**
 * A mask that bans, at every step, the next token of each sequence the answer is following
 * (it ends with the sequence's first `depth` tokens, starting at a word boundary). Sequences
 * are indexed by the token before their ban point, so a step costs a Map probe.
 */
export function spanBanMask(sequences: readonly BannedSequence[], tokenizer: Tokenizer): LogitMask | undefined {
  if (sequences.length === 0) return undefined;
  const isWord = wordTokens(tokenizer);
  const byLast = new Map<number, BannedSequence[]>();
  const atStart: BannedSequence[] = [];
  for (const s of sequences) {
    if (s.depth === 0) atStart.push(s);
    else {
      const key = s.tokens[s.depth - 1];
      const list = byLast.get(key);
      if (list) list.push(s);
      else byLast.set(key, [s]);
    }
  }
  return function banSpans(logits, _step, generated) {
    const n = generated.length;
    const boundary = (at: number) => at === 0 || !isWord(generated[at - 1]);
    if (boundary(n)) for (const s of atStart) ban(logits, s.tokens[0]);
    if (n === 0) return;
    for (const s of byLast.get(generated[n - 1]) ?? []) {
      const from = n - s.depth;
      if (from < 0 || !boundary(from)) continue;
      let follows = true;
      for (let k = 0; k < s.depth - 1 && follows; k++) follows = generated[from + k] === s.tokens[k];
      if (follows) ban(logits, s.tokens[s.depth]);
    }
  };
}

function ban(logits: Float32Array, token: number): void {
  if (token >= 0 && token < logits.length) logits[token] = -Infinity;
}
