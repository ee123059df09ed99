/**
 * Decode-speed benchmark for shared/inference, judged against a same-run baseline.
 *
 *   npm run bench:infer
 *
 * Measures, on the `demo` preset with random init weights:
 *  - decode tokens/s at batch 1 (greedy generate() after a prompt prefill, median of repeats);
 *  - plain Float32Array dot-product GFLOP/s (a straightforward `s += a[i]*b[i]` loop over
 *    vectors of C·4C floats, the same order of memory as the model's matrices).
 * A decode step costs ≈ 2N FLOPs, so dot GFLOP/s predicts (dot·1e9)/(2N) tokens/s for an
 * implementation as fast as that naive loop; ratio = measured / predicted, target ≥ 0.5.
 * The baseline runs on the same machine in the same process, so the ratio is fair anywhere.
 */
import { parameterCount, preset } from "../shared/model/config.js";
import { initWeights } from "../shared/model/weights.js";
import { generate, GPTInference } from "../shared/inference/index.js";

const PROMPT_TOKENS = 32;
const DECODE_TOKENS = 200;
const REPEATS = 7;
const TARGET_RATIO = 0.5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Seconds per decoded token, one run: prefill the prompt, then decode greedily (prefill not timed). */
function decodeSecondsPerToken(model: GPTInference, prompt: number[]): number {
  const it = generate(model, prompt, { maxTokens: DECODE_TOKENS, temperature: 0 });
  const first = it.next(); // prefill + first token
  if (first.done) throw new Error("bench: generation ended during prefill");
  const start = performance.now();
  let n = 0;
  for (let r = it.next(); !r.done; r = it.next()) n++;
  const seconds = (performance.now() - start) / 1000;
  if (n !== DECODE_TOKENS - 1) throw new Error(`bench: decoded ${n} tokens, expected ${DECODE_TOKENS - 1}`);
  return seconds / n;
}

/** The baseline: the loop anyone would write first. */
function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Median GFLOP/s of dot() over vectors of `length`, each repeat long enough (~40 ms) to time. */
function dotGflops(length: number): { gflops: number; checksum: number } {
  const a = new Float32Array(length);
  const b = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    a[i] = ((i * 7919) % 1000) / 1000 - 0.5;
    b[i] = ((i * 104729) % 1000) / 1000 - 0.5;
  }
  let checksum = 0; // used, so the JIT cannot drop the loop
  for (let w = 0; w < 20; w++) checksum += dot(a, b); // warm up the JIT
  let calls = 1;
  for (;;) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) checksum += dot(a, b);
    if (performance.now() - t0 > 40) break;
    calls *= 2;
  }
  const rates: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) checksum += dot(a, b);
    const seconds = (performance.now() - t0) / 1000;
    rates.push((2 * length * calls) / seconds / 1e9);
  }
  return { gflops: median(rates), checksum };
}

function main(): void {
  const config = preset("demo");
  const N = parameterCount(config);
  const model = new GPTInference(config, initWeights(config, 1));
  const prompt = Array.from({ length: PROMPT_TOKENS }, (_, i) => (i * 31 + 7) % 256);

  decodeSecondsPerToken(model, prompt); // warm up the JIT
  const perToken: number[] = [];
  for (let r = 0; r < REPEATS; r++) perToken.push(decodeSecondsPerToken(model, prompt));
  const tokensPerSecond = 1 / median(perToken);

  const dotLength = config.n_embd * 4 * config.n_embd;
  const { gflops, checksum } = dotGflops(dotLength);
  const predicted = (gflops * 1e9) / (2 * N);
  const ratio = tokensPerSecond / predicted;

  const rows: [string, string][] = [
    [
      "model",
      `demo: C=${config.n_embd} L=${config.n_layer} NH=${config.n_head} V=${config.vocab_size} P=${config.n_positions}`,
    ],
    ["params N", N.toLocaleString("en-US")],
    [
      "decode",
      `${tokensPerSecond.toFixed(1)} tok/s (batch 1, prompt ${PROMPT_TOKENS}, ${DECODE_TOKENS} tokens, median of ${REPEATS})`,
    ],
    ["dot baseline", `${gflops.toFixed(3)} GFLOP/s (length ${dotLength}, median of ${REPEATS})`],
    ["dot-predicted", `${predicted.toFixed(1)} tok/s (= dot·1e9 / 2N)`],
    ["ratio", ratio.toFixed(2)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  if (!Number.isFinite(checksum)) console.log("(checksum not finite)");
  console.log(`ratio ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO}): ${ratio >= TARGET_RATIO ? "PASS" : "FAIL"}`);
  if (ratio < TARGET_RATIO) process.exitCode = 1;
}

main();
