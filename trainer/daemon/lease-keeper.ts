/**
 * Keeps a claimed job's lease alive while the job runs: renews it on a timer
 * (the training loop yields to the event loop every step), and records when it
 * is lost (the Worker answers 409, or renewals failed until the lease lapsed).
 * The runner checks {@link LeaseKeeper.assertHeld} between stages and before publishing.
 */
import { DaemonError } from "./errors.js";
import { leaseLapsed, leaseTiming, mayPublish, nextBeatIn, reliableUntil, type LeaseTiming } from "./lease.js";
import type { ClaimedJob, WorkerClient } from "./worker-client.js";

/** A running lease. */
export class LeaseKeeper {
  private readonly timing: LeaseTiming;
  private until: number;
  private lastRenewed: number;
  private lostReason: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: WorkerClient,
    private readonly job: ClaimedJob,
    private readonly leaseSeconds: number,
    claimedAt: number,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.timing = leaseTiming(leaseSeconds);
    this.until = reliableUntil(this.timing, claimedAt);
    this.lastRenewed = claimedAt;
    this.schedule();
  }

  /** Why the lease was lost, or null while it is held. */
  get lost(): string | null {
    if (!this.lostReason && leaseLapsed(this.until, Date.now())) this.lostReason = `lease lapsed at ${new Date(this.until).toISOString()} without a successful renewal`;
    return this.lostReason;
  }

  /** Throws DaemonError "lease_lost" once the lease is lost. */
  assertHeld(): void {
    const lost = this.lost;
    if (lost) throw new DaemonError("lease_lost", `job ${this.job.id}: ${lost}`);
  }

  /** Renews now; throws "lease_lost" when it is gone or too little of it is left to publish safely. */
  async renewForPublish(): Promise<void> {
    await this.renew();
    this.assertHeld();
    if (!mayPublish(this.timing, this.until, Date.now())) throw new DaemonError("lease_lost", `job ${this.job.id}: too little lease left to publish safely`);
  }

  /** Stops renewing (the job is done or abandoned). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.renew().finally(() => this.schedule()), nextBeatIn(this.timing, this.lastRenewed, Date.now()));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.lostReason || this.stopped) return;
    const sentAt = Date.now();
    try {
      await this.client.heartbeat(this.job, this.leaseSeconds);
      this.until = reliableUntil(this.timing, sentAt);
      this.lastRenewed = sentAt;
    } catch (e) {
      if (e instanceof DaemonError && e.kind === "lease_lost") {
        this.lostReason = `the Worker refused the heartbeat: ${e.message}`;
        this.log(`job ${this.job.id}: lease lost (${e.message})`);
      } else {
        this.lastRenewed = sentAt - this.timing.beatEveryMs + 1000; // retry in about a second
        this.log(`job ${this.job.id}: heartbeat failed, retrying: ${(e as Error).message}`);
      }
    }
  }
}
