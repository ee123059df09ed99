/**
 * `npm run bench:train [-- --backend wasm --batch 16 --seq 128 --steps 5 --profile]`
 *
 * Times full training steps (forward, backward, global-norm clip, AdamW) of the demo model and
 * reports model-FLOPs utilisation against this backend's own 1024×1024 matMul speed measured in
 * the same run: ratio = 6·N·tokens/s ÷ matMul FLOP/s. Contention on a shared box slows both alike.
 * The naive model (plain tfjs + autodiff) runs the same steps as the baseline.
 */
import * as tf from "@tensorflow/tfjs-core";
import { parameterCount, preset } from "../shared/model/config.js";
import { mulberry32 } from "../shared/model/weights.js";
import { TfGPT, type TokenBatch } from "../trainer/model/gpt.js";
import { selectBackend, BACKEND_CHOICES, type BackendChoice } from "../trainer/tf/backend.js";
import { AdamW, clipByGlobalNorm } from "../trainer/train/optim.js";
import { formatKernelTable, kernelTimes } from "./profile.js";

const TARGET = 0.4;

interface Args {
  backend: BackendChoice;
  batch: number;
  seq: number;
  steps: number;
  warmup: number;
  naiveSteps: number;
  profile: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { backend: "wasm", batch: 16, seq: 128, steps: 5, warmup: 2, naiveSteps: 2, profile: false };
  for (let i = 0; i < argv.length; i++) {
    const [key, inline] = argv[i].split("=", 2);
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${key} needs a value`);
      return v;
    };
    const int = (): number => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) throw new Error(`${key} needs a non-negative integer`);
      return n;
    };
    switch (key) {
      case "--backend": {
        const b = value();
        if (!(BACKEND_CHOICES as readonly string[]).includes(b))
          throw new Error(`--backend must be one of ${BACKEND_CHOICES.join(", ")}`);
        a.backend = b as BackendChoice;
        break;
      }
      case "--batch":
        a.batch = int();
        break;
      case "--seq":
        a.seq = int();
        break;
      case "--steps":
        a.steps = Math.max(1, int());
        break;
      case "--warmup":
        a.warmup = int();
        break;
      case "--naive-steps":
        a.naiveSteps = int();
        break;
      case "--profile":
        a.profile = true;
        break;
      default:
        throw new Error(
          `unknown argument ${argv[i]} (expected --backend, --batch, --seq, --steps, --warmup, --naive-steps, --profile)`,
        );
    }
  }
  return a;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Measures 1024×1024 float32 matMul GFLOP/s on the active backend; call `measure(reps)` as often as needed. */
class MatMulReference {
  private readonly n = 1024;
  private readonly a = tf.randomNormal([this.n, this.n], 0, 1, "float32", 1);
  private readonly b = tf.randomNormal([this.n, this.n], 0, 1, "float32", 2);
  /** Every measurement so far, GFLOP/s. */
  readonly samples: number[] = [];

  constructor() {
    this.once(); // first call packs b / compiles
  }

  private once(): number {
    const t0 = performance.now();
    const c = tf.matMul(this.a, this.b);
    c.dataSync(); // forces completion on async backends
    const ms = performance.now() - t0;
    c.dispose();
    return (2 * this.n ** 3) / (ms / 1e3) / 1e9;
  }

  /** Median GFLOP/s of `reps` fresh runs (also recorded in `samples`). */
  measure(reps: number): number {
    const xs = Array.from({ length: reps }, () => this.once());
    this.samples.push(...xs);
    return median(xs);
  }

  dispose(): void {
    tf.dispose([this.a, this.b]);
  }
}

/** A fixed batch of random byte tokens; targets are the next tokens. */
function randomBatch(B: number, T: number, seed: number): TokenBatch {
  const rand = mulberry32(seed);
  const seq = Int32Array.from({ length: B * (T + 1) }, () => Math.floor(rand() * 256));
  const tokens = new Int32Array(B * T),
    targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    tokens.set(seq.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    targets.set(seq.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
  }
  return {
    tokens: tf.tensor2d(tokens, [B, T], "int32"),
    targets: tf.tensor2d(targets, [B, T], "int32"),
    mask: tf.ones([B, T]),
  };
}

/** One optimizer step; returns the loss. */
function trainStep(model: TfGPT, opt: AdamW, batch: TokenBatch, lr: number): number {
  const { loss, grads } = model.lossAndGrads(batch);
  const clipped = clipByGlobalNorm(grads, 1.0);
  opt.step(clipped.grads, lr);
  const value = loss.dataSync()[0];
  tf.dispose([loss, ...grads]);
  if (clipped.grads !== grads) tf.dispose(clipped.grads);
  return value;
}

interface RunResult {
  msPerStep: number;
  tokensPerSec: number;
  /** Median over timed steps of 6·N·tokens/s ÷ the matMul GFLOP/s measured just before that step. */
  ratio: number;
  losses: number[];
}

/**
 * Trains the demo model on one fixed batch. Before each timed step the matMul reference is measured
 * again, so each step is compared with the machine's speed at that moment (the box is shared).
 */
async function runModel(
  naive: boolean,
  a: Args,
  steps: number,
  warmup: number,
  profile: boolean,
  ref: MatMulReference,
): Promise<RunResult> {
  const config = preset("demo");
  const model = TfGPT.init(config, 0, { naive });
  const opt = new AdamW(model.optimizedParams());
  const batch = randomBatch(a.batch, a.seq, 1);
  const losses: number[] = [];
  for (let i = 0; i < warmup; i++) losses.push(trainStep(model, opt, batch, 1e-3));
  const times: number[] = [];
  const ratios: number[] = [];
  const flopsPerToken = 6 * parameterCount(config);
  for (let i = 0; i < steps; i++) {
    const gflops = ref.measure(3);
    const t0 = performance.now();
    losses.push(trainStep(model, opt, batch, 1e-3));
    const ms = performance.now() - t0;
    times.push(ms);
    ratios.push((flopsPerToken * ((a.batch * a.seq) / (ms / 1e3))) / (gflops * 1e9));
  }
  if (profile) {
    const r = await kernelTimes(() => void trainStep(model, opt, batch, 1e-3));
    console.log(formatKernelTable(`${naive ? "naive" : "fused"} step profile`, r));
  }
  opt.dispose();
  model.dispose();
  tf.dispose([batch.tokens, batch.targets, batch.mask]);
  const msPerStep = median(times);
  return { msPerStep, tokensPerSec: (a.batch * a.seq) / (msPerStep / 1e3), ratio: median(ratios), losses };
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const sel = await selectBackend(a.backend);
  console.log(`backend: ${sel.reason}`);
  const config = preset("demo");
  const N = parameterCount(config);
  console.log(
    `model: demo preset (C${config.n_embd} L${config.n_layer} H${config.n_head} V${config.vocab_size}), N = ${N} params`,
  );
  console.log(
    `batch: B×T = ${a.batch}×${a.seq} = ${a.batch * a.seq} tokens/step; ${a.warmup} warm-up + ${a.steps} timed steps (median)`,
  );

  const ref = new MatMulReference();
  console.log(
    `matMul 1024×1024 on ${sel.backend}: ${ref.measure(5).toFixed(1)} GFLOP/s now (re-measured before every timed step)`,
  );

  const fast = await runModel(false, a, a.steps, a.warmup, a.profile, ref);
  const gflopsFast = median(ref.samples);
  console.log(
    `fused: ${fast.msPerStep.toFixed(0)} ms/step, ${fast.tokensPerSec.toFixed(0)} tokens/s = ${((6 * N * fast.tokensPerSec) / 1e9).toFixed(2)} model GFLOP/s; matMul ${gflopsFast.toFixed(1)} GFLOP/s (median); ratio ${fast.ratio.toFixed(3)}; loss ${fast.losses[0].toFixed(3)} → ${fast.losses[fast.losses.length - 1].toFixed(3)}`,
  );

  if (a.naiveSteps > 0) {
    const n0 = ref.samples.length;
    const naive = await runModel(true, a, a.naiveSteps, 1, a.profile, ref);
    const gflopsNaive = median(ref.samples.slice(n0));
    console.log(
      `naive: ${naive.msPerStep.toFixed(0)} ms/step, ${naive.tokensPerSec.toFixed(0)} tokens/s; matMul ${gflopsNaive.toFixed(1)} GFLOP/s (median); ratio ${naive.ratio.toFixed(3)} (plain tfjs + autodiff) — fused is ${(fast.ratio / naive.ratio).toFixed(1)}× the naive ratio`,
    );
  }
  ref.dispose();
  console.log(`ratio ${fast.ratio.toFixed(3)} (target ≥ ${TARGET}): ${fast.ratio >= TARGET ? "PASS" : "FAIL"}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
