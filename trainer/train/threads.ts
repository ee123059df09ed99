/**
 * Training worker threads, kept in a pool for the life of the process (starting one costs a wasm
 * backend's initialisation). Each thread builds the run's objective from its recipe and computes
 * gradients on the rows it is sent; the main thread combines them and runs the optimiser.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Batch } from "../data/index.js";
import type { ObjectiveRecipe } from "./objective.js";
import type { ShardReply, ShardRequest } from "./shard-protocol.js";

const ENTRY = new URL("./shard-worker.mjs", import.meta.url);

/** Threads a run uses by default: every core on the CPU backends, one on a GPU or native TensorFlow. */
export function defaultThreads(backend: string): number {
  const fromEnv = process.env.SANDE_THREADS;
  if (fromEnv !== undefined) {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 1) throw new Error(`SANDE_THREADS must be a positive integer, got ${fromEnv}`);
    return n;
  }
  return backend === "wasm" || backend === "cpu" ? availableParallelism() : 1;
}

/** One worker thread of the pool. */
export class TrainingThread {
  private readonly worker: Worker;
  private pending: { ok: (r: ShardReply) => void; fail: (e: Error) => void } | null = null;
  private dead: Error | null = null;
  /** This thread's gradients (shared memory), valid after a step's reply until the next step. */
  grads: Float32Array = new Float32Array(0);

  constructor() {
    this.worker = new Worker(ENTRY);
    this.worker.unref();
    this.worker.on("message", (reply: ShardReply) => this.settle(reply));
    this.worker.on("error", (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
    this.worker.on("exit", (code) => this.fail(new Error(`training worker thread exited (code ${code})`)));
  }

  /** Builds the objective in the thread; `values` holds the trainable values it reads at each synced step. */
  async init(recipe: ObjectiveRecipe, backend: string, sizes: number[], values: SharedArrayBuffer): Promise<void> {
    const total = sizes.reduce((s, n) => s + n, 0);
    const grads = new SharedArrayBuffer(total * 4);
    this.grads = new Float32Array(grads);
    await this.request({ kind: "init", recipe, backend, sizes, values, grads });
  }

  /** Loss and weight of `batch`; the gradients land in `grads`. `sync`: load the shared values first. */
  async step(batch: Batch, sync: boolean): Promise<{ loss: number; weight: number }> {
    const r = await this.request({ kind: "step", batch, sync });
    if (r.kind !== "step") throw new Error(`training worker answered ${r.kind} to a step`);
    return r;
  }

  private request(message: ShardRequest): Promise<ShardReply> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.pending) return Promise.reject(new Error("training worker is busy"));
    this.worker.ref(); // keep the process alive while the thread works for us
    return new Promise((ok, fail) => {
      this.pending = { ok, fail };
      this.worker.postMessage(message);
    });
  }

  private settle(reply: ShardReply): void {
    const p = this.pending;
    this.pending = null;
    this.worker.unref();
    if (!p) return;
    if (reply.kind === "error") p.fail(new Error(`training worker: ${reply.message}`));
    else p.ok(reply);
  }

  private fail(e: Error): void {
    this.dead ??= e;
    const p = this.pending;
    this.pending = null;
    p?.fail(e);
  }

  /** Whether the thread can still take work. */
  get alive(): boolean {
    return this.dead === null;
  }

  /** Stops the thread. */
  async terminate(): Promise<void> {
    this.dead ??= new Error("training worker terminated");
    await this.worker.terminate();
  }
}

const pool: TrainingThread[] = [];

/** `n` idle threads from the pool (started on first use; dead ones replaced). */
export function trainingThreads(n: number): TrainingThread[] {
  for (let i = pool.length - 1; i >= 0; i--) if (!pool[i].alive) pool.splice(i, 1);
  while (pool.length < n) pool.push(new TrainingThread());
  return pool.slice(0, n);
}

/** Stops every pooled thread (tests and benchmarks that want a clean exit). */
export async function closeTrainingThreads(): Promise<void> {
  await Promise.all(pool.splice(0).map((t) => t.terminate()));
}
