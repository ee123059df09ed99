/**
 * Lease arithmetic (pure). The Worker grants a lease of `leaseSeconds`; the trainer
 * renews it every third of that, counts it as lost once its own clock passes the
 * expiry it could rely on (measured from before the request that renewed it), and
 * only publishes with a safety margin left.
 */

/** How a lease is kept. */
export interface LeaseTiming {
  leaseMs: number;
  /** Renew this often. */
  beatEveryMs: number;
  /** Do not start publishing with less than this left. */
  safetyMs: number;
}

/** Timing for a lease of `leaseSeconds`. */
export function leaseTiming(leaseSeconds: number): LeaseTiming {
  if (!(leaseSeconds >= 1)) throw new Error(`lease must be at least 1 s, got ${leaseSeconds}`);
  const leaseMs = leaseSeconds * 1000;
  return {
    leaseMs,
    beatEveryMs: Math.max(500, Math.floor(leaseMs / 3)),
    safetyMs: Math.min(30_000, Math.floor(leaseMs / 4)),
  };
}

/** The expiry the trainer may rely on after a renewal sent at `sentAt` (the server's clock may differ; the send time is the safe bound). */
export function reliableUntil(timing: LeaseTiming, sentAt: number): number {
  return sentAt + timing.leaseMs;
}

/** True once the lease can no longer be relied on. */
export function leaseLapsed(until: number, now: number): boolean {
  return now >= until;
}

/** True when enough lease is left to publish (upload, manifest write, completion). */
export function mayPublish(timing: LeaseTiming, until: number, now: number): boolean {
  return until - now >= timing.safetyMs;
}
