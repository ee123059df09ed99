/**
 * Keeps a claimed job's lease alive while the job runs. Training and greedy decoding
 * keep the main thread busy for minutes without yielding to timers (the wasm and cpu
 * backends resolve every await as a microtask), so renewals run on their own thread:
 * a small worker thread POSTs the heartbeat every third of the lease and writes the
 * expiry it may rely on, or "lost", into shared memory that the job reads
 * synchronously ({@link LeaseKeeper.assertHeld}) between training steps and stages.
 */
import { Worker } from "node:worker_threads";
import { DaemonError } from "./errors.js";
import { leaseLapsed, leaseTiming, mayPublish, reliableUntil, type LeaseTiming } from "./lease.js";
import type { ClaimedJob, WorkerClient } from "./worker-client.js";

/** Shared slots (BigInt64): expiry the trainer may rely on (ms), lost (0/1), renewals that failed in a row. */
const UNTIL = 0;
const LOST = 1;
const FAILURES = 2;

/**
 * The renewal loop (CommonJS, evaluated in the thread: no imports to resolve). A 409
 * means the Worker no longer holds the lease for us; other failures are retried in a
 * second until the lease lapses.
 */
const RENEWER = `
const { workerData: w, parentPort } = require("node:worker_threads");
const slots = new BigInt64Array(w.shared);
let timer;
async function beat() {
  const sentAt = Date.now();
  let next = w.beatEveryMs;
  try {
    const res = await fetch(w.url, { method: "POST", headers: { authorization: "Bearer " + w.token, "content-type": "application/json" }, body: JSON.stringify({ leaseId: w.leaseId, leaseSeconds: w.leaseSeconds }), signal: AbortSignal.timeout(Math.max(1000, w.beatEveryMs)) });
    const text = await res.text();
    if (res.status === 409) {
      Atomics.store(slots, ${LOST}, 1n);
      parentPort.postMessage("the Worker refused the heartbeat: " + text.slice(0, 300));
      return;
    }
    if (!res.ok) throw new Error("HTTP " + res.status + " " + text.slice(0, 200));
    Atomics.store(slots, ${UNTIL}, BigInt(sentAt + w.leaseMs));
    Atomics.store(slots, ${FAILURES}, 0n);
  } catch (e) {
    Atomics.add(slots, ${FAILURES}, 1n);
    parentPort.postMessage("heartbeat failed, retrying: " + (e && e.message));
    next = 1000;
  }
  timer = setTimeout(beat, next);
}
parentPort.on("message", (m) => { if (m === "stop") { clearTimeout(timer); parentPort.close(); } });
timer = setTimeout(beat, w.beatEveryMs);
`;

/** A running lease. */
export class LeaseKeeper {
  private readonly timing: LeaseTiming;
  private readonly slots: BigInt64Array;
  private readonly thread: Worker;
  private lostReason: string | null = null;

  constructor(
    private readonly client: WorkerClient,
    private readonly job: ClaimedJob,
    private readonly leaseSeconds: number,
    claimedAt: number,
    log: (message: string) => void = () => undefined,
  ) {
    this.timing = leaseTiming(leaseSeconds);
    this.slots = new BigInt64Array(new SharedArrayBuffer(3 * 8));
    Atomics.store(this.slots, UNTIL, BigInt(reliableUntil(this.timing, claimedAt)));
    this.thread = new Worker(RENEWER, {
      eval: true,
      workerData: {
        shared: this.slots.buffer,
        url: `${client.baseUrl}/admin/api/jobs/${job.id}/heartbeat`,
        token: client.bearerToken,
        leaseId: job.leaseId,
        leaseSeconds,
        leaseMs: this.timing.leaseMs,
        beatEveryMs: this.timing.beatEveryMs,
      },
    });
    this.thread.unref();
    this.thread.on("message", (m: string) => log(`job ${job.id}: ${m}`));
    this.thread.on("error", (e) => log(`job ${job.id}: lease thread failed: ${e.message}`));
  }

  /** The expiry the trainer may rely on (ms since epoch). */
  get until(): number {
    return Number(Atomics.load(this.slots, UNTIL));
  }

  /** Why the lease was lost, or null while it is held. */
  get lost(): string | null {
    if (!this.lostReason && Atomics.load(this.slots, LOST) === 1n)
      this.lostReason = "the Worker refused the heartbeat (expired, completed or claimed by another trainer)";
    if (!this.lostReason && leaseLapsed(this.until, Date.now()))
      this.lostReason = `lease lapsed at ${new Date(this.until).toISOString()} without a successful renewal`;
    return this.lostReason;
  }

  /** Throws DaemonError "lease_lost" once the lease is lost (cheap: reads shared memory). */
  assertHeld(): void {
    const lost = this.lost;
    if (lost) throw new DaemonError("lease_lost", `job ${this.job.id}: ${lost}`);
  }

  /** Renews now; throws "lease_lost" when it is gone or too little of it is left to publish safely. */
  async renewForPublish(): Promise<void> {
    this.assertHeld();
    const sentAt = Date.now();
    try {
      await this.client.heartbeat(this.job, this.leaseSeconds);
      Atomics.store(this.slots, UNTIL, BigInt(reliableUntil(this.timing, sentAt)));
    } catch (e) {
      if (e instanceof DaemonError && e.kind === "lease_lost") Atomics.store(this.slots, LOST, 1n);
      else throw e;
    }
    this.assertHeld();
    if (!mayPublish(this.timing, this.until, Date.now()))
      throw new DaemonError("lease_lost", `job ${this.job.id}: too little lease left to publish safely`);
  }

  /** Stops renewing (the job is done or abandoned). */
  stop(): void {
    this.thread.postMessage("stop");
    void this.thread.terminate();
  }
}
