/**
 * `npm run bench:train [-- --backend wasm --preset demo --batch 16 --seq 128 --steps 5 --threads N --profile]`
 *
 * Times full training steps (forward, backward, global-norm clip, AdamW) through the training loop,
 * first on one thread, then data-parallel on every core (or `--threads N`), and reports model-FLOPs
 * utilisation against this backend's own 1024×1024 matMul speed on ONE thread, measured in the same
 * run: ratio = 6·N·tokens/s ÷ matMul FLOP/s. The reference is re-measured before every timed step
 * (the training threads are idle then), so contention on a shared box moves both sides alike. The
 * naive model (plain tfjs + autodiff, one thread) runs the same steps as a second baseline.
 */
import * as tf from "@tensorflow/tfjs-core";
import { parameterCount, preset, type GPTConfig } from "../shared/model/config.js";
import { mulberry32 } from "../shared/model/weights.js";
import type { Batch } from "../trainer/data/index.js";
import { TfGPT } from "../trainer/model/gpt.js";
import { selectBackend, BACKEND_CHOICES, type BackendChoice } from "../trainer/tf/backend.js";
import { lmTarget } from "../trainer/train/lm-objective.js";
import { trainLoop, type MetricsRecord } from "../trainer/train/loop.js";
import { closeTrainingThreads, defaultThreads } from "../trainer/train/threads.js";
import { formatKernelTable, kernelTimes } from "./profile.js";

/** One thread: model FLOP/s at least this share of the matMul rate. */
const TARGET_ONE = 0.4;
/** Every core: model FLOP/s at least this multiple of ONE thread's matMul rate. */
const TARGET_ALL = 1.6;

interface Args {
  backend: BackendChoice;
  preset: string;
  batch: number;
  seq: number;
  steps: number;
  warmup: number;
  naiveSteps: number;
  threads?: number;
  profile: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    backend: "wasm",
    preset: "demo",
    batch: 16,
    seq: 128,
    steps: 5,
    warmup: 2,
    naiveSteps: 2,
    profile: false,
  };
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
      case "--preset":
        a.preset = value();
        break;
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
      case "--threads":
        a.threads = Math.max(1, int());
        break;
      case "--profile":
        a.profile = true;
        break;
      default:
        throw new Error(
          `unknown argument ${argv[i]} (expected --backend, --preset, --batch, --seq, --steps, --warmup, --naive-steps, --threads, --profile)`,
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

/** Measures 1024×1024 float32 matMul GFLOP/s on the active backend, in this thread; call `measure(reps)` as often as needed. */
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

/** A fixed batch of random byte tokens, every position trained; targets are the next tokens. */
function randomBatch(B: number, T: number, seed: number): Batch {
  const rand = mulberry32(seed);
  const seq = Int32Array.from({ length: B * (T + 1) }, () => Math.floor(rand() * 256));
  const tokens = new Int32Array(B * T),
    targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    tokens.set(seq.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    targets.set(seq.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
  }
  return { tokens, targets, mask: new Float32Array(B * T).fill(1), batchSize: B, seqLen: T };
}

interface RunResult {
  threads: number;
  msPerStep: number;
  tokensPerSec: number;
  /** Median over timed steps of 6·N·tokens/s ÷ the one-thread matMul GFLOP/s measured just before that step. */
  ratio: number;
  losses: number[];
}

/**
 * Trains the model on one fixed batch through `trainLoop` with `threads` threads. Before each step
 * the matMul reference is measured again on this thread, so each step is compared with the
 * machine's one-thread speed at that moment.
 */
async function runModel(
  config: GPTConfig,
  naive: boolean,
  a: Args,
  threads: number,
  steps: number,
  ref: MatMulReference,
): Promise<RunResult> {
  const model = TfGPT.init(config, 0, { naive });
  const batch = randomBatch(a.batch, a.seq, 1);
  const gflops: number[] = [];
  const records: MetricsRecord[] = [];
  const total = a.warmup + steps;
  const result = await trainLoop(
    lmTarget(model),
    () => {
      if (records.length >= a.warmup) gflops.push(ref.measure(3));
      return batch;
    },
    { steps: total, lr: 1e-3, warmup: 1, threads, quiet: true, metrics: (r) => records.push(r) },
  );
  model.dispose();
  const timed = records.slice(a.warmup);
  const flopsPerToken = 6 * parameterCount(config);
  const tokens = a.batch * a.seq;
  const ratios = timed.map((r, i) => (flopsPerToken * (tokens / (Number(r.ms) / 1e3))) / (gflops[i] * 1e9));
  const msPerStep = median(timed.map((r) => Number(r.ms)));
  return {
    threads: result.threads,
    msPerStep,
    tokensPerSec: tokens / (msPerStep / 1e3),
    ratio: median(ratios),
    losses: records.map((r) => Number(r.loss)),
  };
}

function line(label: string, r: RunResult, N: number): string {
  return `${label}: ${r.msPerStep.toFixed(0)} ms/step, ${r.tokensPerSec.toFixed(0)} tokens/s = ${((6 * N * r.tokensPerSec) / 1e9).toFixed(2)} model GFLOP/s; ratio ${r.ratio.toFixed(3)}; loss ${r.losses[0].toFixed(3)} → ${r.losses[r.losses.length - 1].toFixed(3)}`;
}

async function profileStep(config: GPTConfig, a: Args): Promise<void> {
  const model = TfGPT.init(config, 0);
  const batch = randomBatch(a.batch, a.seq, 1);
  const target = lmTarget(model);
  target.local.compute(batch); // warm
  console.log(
    formatKernelTable("one thread's forward + backward", await kernelTimes(() => void target.local.compute(batch))),
  );
  model.dispose();
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const sel = await selectBackend(a.backend);
  const config = preset(a.preset);
  const N = parameterCount(config);
  const all = a.threads ?? defaultThreads(sel.backend);
  console.log(`backend: ${sel.reason}`);
  console.log(
    `model: ${a.preset} preset (C${config.n_embd} L${config.n_layer} H${config.n_head} V${config.vocab_size}), N = ${N} params`,
  );
  console.log(
    `batch: B×T = ${a.batch}×${a.seq} = ${a.batch * a.seq} tokens/step; ${a.warmup} warm-up + ${a.steps} timed steps (median)`,
  );
  const ref = new MatMulReference();
  console.log(
    `matMul 1024×1024 on ${sel.backend}, one thread: ${ref.measure(5).toFixed(1)} GFLOP/s now (re-measured before every timed step)`,
  );

  const one = await runModel(config, false, a, 1, a.steps, ref);
  console.log(line("one thread", one, N));
  const many = all > 1 ? await runModel(config, false, a, all, a.steps, ref) : one;
  if (all > 1)
    console.log(
      `${line(`all cores (${many.threads} threads)`, many, N)}; ${(many.tokensPerSec / one.tokensPerSec).toFixed(2)}× one thread`,
    );
  console.log(`matMul ${median(ref.samples).toFixed(1)} GFLOP/s one thread (median of ${ref.samples.length})`);
  if (a.naiveSteps > 0) {
    const naive = await runModel(config, true, { ...a, warmup: 1 }, 1, a.naiveSteps, ref);
    console.log(
      `${line("naive, one thread", naive, N)} (plain tfjs + autodiff): the fused kernels are ${(one.ratio / naive.ratio).toFixed(1)}× the naive ratio`,
    );
  }
  if (a.profile) await profileStep(config, a);
  ref.dispose();
  await closeTrainingThreads();
  console.log(
    `ratio one thread ${one.ratio.toFixed(3)} (target ≥ ${TARGET_ONE}): ${one.ratio >= TARGET_ONE ? "PASS" : "FAIL"}`,
  );
  console.log(
    `ratio all cores ${many.ratio.toFixed(3)} (${many.threads} threads; target ≥ ${TARGET_ALL}): ${many.ratio >= TARGET_ALL ? "PASS" : "FAIL"}`,
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
