/**
 * Benign floods, as data: one question or one echo request sent many times, each copy with a
 * fresh nonce in it and a simulated client (CF-Connecting-IP). Pure: the requests are built
 * from a seed; sending them is tests/support/send-flood.ts.
 */
import { Rng } from "../../trainer/data/random.js";

/**
 * What a nonce is made of. A "letter-digit" nonce ("x7k2q9") is one word of the prompt key's
 * `#` class (a word with a digit), so the copies share one prompt key; a "letters" nonce
 * ("bkqzrt") is an ordinary word, so each copy is a distinct prompt.
 */
export type NonceKind = "letter-digit" | "letters";

/** One request of a flood. */
export interface FloodRequest {
  /** The user message. */
  content: string;
  /** Sent as CF-Connecting-IP: the client the Worker counts it under. */
  ip: string;
  nonce: NonceKind;
}

/** How a flood is built. */
export interface FloodSpec {
  /** The user message, with `{nonce}` where the nonce goes. */
  template: string;
  count: number;
  seed: number;
  /** The one address that sends every other request (the rest each come from an address of their own). */
  singleClient: string;
}

const LETTERS = "bcdfghjklmnpqrstvwxz";
const DIGITS = "0123456789";
const NONCE_LENGTH = 6;

/** A fresh nonce of `kind`: six characters; a letter-digit one alternates letter, digit ("x7k2q9"). */
export function nonce(kind: NonceKind, rng: Rng): string {
  const chars = Array.from({ length: NONCE_LENGTH }, (_, i) =>
    rng.pick([...(kind === "letters" || i % 2 === 0 ? LETTERS : DIGITS)]),
  );
  return chars.join("");
}

/** The address of the i-th client of its own (198.18.0.0/15, the benchmarking range). */
export function ownClient(i: number): string {
  return `198.18.${Math.floor(i / 250) % 256}.${(i % 250) + 1}`;
}

/**
 * The flood: `count` copies of the template, each with a fresh nonce (kinds alternating in
 * pairs, so both kinds reach both kinds of client); even copies from an address of their own,
 * odd copies from `singleClient`.
 */
export function floodRequests(spec: FloodSpec): FloodRequest[] {
  if (!spec.template.includes("{nonce}")) throw new Error(`floodRequests: no {nonce} in ${spec.template}`);
  const rng = new Rng(spec.seed);
  const seen = new Set<string>();
  return Array.from({ length: spec.count }, (_, i) => {
    const kind: NonceKind = Math.floor(i / 2) % 2 === 0 ? "letter-digit" : "letters";
    let n = nonce(kind, rng);
    while (seen.has(n)) n = nonce(kind, rng);
    seen.add(n);
    return {
      content: spec.template.replace("{nonce}", n),
      ip: i % 2 === 0 ? ownClient(i / 2) : spec.singleClient,
      nonce: kind,
    };
  });
}

/** The most frequent texts, most frequent first (ties by text), with their counts. */
export function topCounts(texts: readonly string[], top: number): [string, number][] {
  const counts = new Map<string, number>();
  for (const t of texts) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top);
}
