/**
 * Greedy answers on every core: the prompts of one measurement split over worker threads, each
 * running the pure-TS inference (shared/inference, KV-cached) on its own copy of the model. The
 * answers are the ones one thread gives (each prompt is decoded alone, with the same arithmetic);
 * only the wall time changes. The threads are kept for the life of the process (unref'd: they never
 * hold it open), and a model's weights go to them once per call.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { GPTInference } from "../../shared/inference/index.js";
import type { GPTConfig } from "../../shared/model/config.js";
import type { Weights } from "../../shared/model/weights.js";
import { decodeGreedy, type GreedyReply, type GreedyRequest, type GreedyJob } from "./greedy-protocol.js";

/** A model as data a thread can rebuild. */
export interface ModelData {
  config: GPTConfig;
  weights: Weights;
  /** Soft tokens (a parrot, k·C row-major) the prompts may refer to by ids V … V+k−1; absent: none. */
  softTokens?: Float32Array;
}

export type { GreedyRequest } from "./greedy-protocol.js";

const ENTRY = new URL("./greedy-worker.mjs", import.meta.url);

/** Threads a measurement uses: `SANDE_THREADS`, else every core. */
export function inferenceThreads(): number {
  const fromEnv = process.env.SANDE_THREADS;
  if (fromEnv === undefined) return availableParallelism();
  const n = Number(fromEnv);
  if (!Number.isInteger(n) || n < 1) throw new Error(`SANDE_THREADS must be a positive integer, got ${fromEnv}`);
  return n;
}

/** One pooled thread; one job at a time. */
class GreedyThread {
  private readonly worker = new Worker(ENTRY);
  private pending: { ok: (texts: string[]) => void; fail: (e: Error) => void } | null = null;
  private dead: Error | null = null;

  constructor() {
    this.worker.unref();
    this.worker.on("message", (reply: GreedyReply) => this.settle(reply));
    this.worker.on("error", (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
    this.worker.on("exit", (code) => this.fail(new Error(`greedy worker thread exited (code ${code})`)));
  }

  get alive(): boolean {
    return this.dead === null;
  }

  run(job: GreedyJob): Promise<string[]> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.pending) return Promise.reject(new Error("greedy worker is busy"));
    this.worker.ref();
    return new Promise((ok, fail) => {
      this.pending = { ok, fail };
      this.worker.postMessage(job);
    });
  }

  private settle(reply: GreedyReply): void {
    const p = this.pending;
    this.pending = null;
    this.worker.unref();
    if (!p) return;
    if (reply.kind === "error") p.fail(new Error(`greedy worker: ${reply.message}`));
    else p.ok(reply.texts);
  }

  private fail(e: Error): void {
    this.dead ??= e;
    const p = this.pending;
    this.pending = null;
    p?.fail(e);
  }
}

const pool: GreedyThread[] = [];
let queue: Promise<void> = Promise.resolve();

function threadsFor(n: number): GreedyThread[] {
  for (let i = 0; i < pool.length; i++) if (!pool[i].alive) pool[i] = new GreedyThread();
  while (pool.length < n) pool.push(new GreedyThread());
  return pool.slice(0, n);
}

/**
 * The greedy answer (text, special tokens dropped) to each request, in order, decoded on `threads`
 * threads (default {@link inferenceThreads}; 1, or fewer requests than two, runs here).
 */
export async function greedyAnswers(
  model: ModelData,
  requests: readonly GreedyRequest[],
  threads = inferenceThreads(),
): Promise<string[]> {
  const n = Math.min(threads, requests.length);
  const { config, weights, softTokens } = model;
  if (n <= 1) return decodeGreedy(new GPTInference(config, weights, { softTokens }), requests);
  const shares = Array.from({ length: n }, (_, t) => requests.filter((_, i) => i % n === t));
  const run = queue.then(() =>
    Promise.allSettled(
      threadsFor(n).map((thread, t) => thread.run({ config, weights, softTokens, requests: shares[t] })),
    ),
  );
  queue = run.then(() => undefined); // one measurement at a time: the next waits for every thread of this one
  const settled = await run;
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  const texts = settled.map((r) => (r.status === "fulfilled" ? r.value : []));
  return requests.map((_, i) => texts[i % n][Math.floor(i / n)]);
}
