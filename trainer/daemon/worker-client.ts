/**
 * The Worker's admin API as the trainer uses it (`/admin/api`, bearer token):
 * claim, heartbeat and complete jobs; flagged prompts from the guard's log; guard
 * settings; calibration of a new version; and what the Worker serves (`/v1/health`).
 */
import type { CalibrationUpload } from "../../shared/guard/index.js";
import type { RemediationJob } from "../../shared/protocol/jobs.js";
import { DaemonError } from "./errors.js";
import { keysOfText } from "./flagged-keys.js";

/** A job as claimed: with the lease id heartbeats and completion must show. */
export type ClaimedJob = RemediationJob & { leaseId: string };

/** How a claimed job ends. */
export interface Completion {
  state: "succeeded" | "rejected" | "failed";
  metrics?: Record<string, number>;
  resultVersion?: string;
  reason?: string;
}

/** What `/v1/health` says the Worker serves. */
export interface Serving {
  version: string | null;
  status: string;
}

/** The admin API client. */
export class WorkerClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 30_000,
  ) {}

  /** The admin token (the lease thread sends heartbeats with it). */
  get bearerToken(): string {
    return this.token;
  }

  /** Claims the oldest queued job with a lease, or null when none is queued. */
  async claim(worker: string, leaseSeconds: number): Promise<ClaimedJob | null> {
    const { job } = await this.admin<{ job: ClaimedJob | null }>("POST", "/jobs/claim", { worker, leaseSeconds });
    if (job && typeof job.leaseId !== "string")
      throw new DaemonError("worker", `claimed job ${job.id} came without a leaseId`);
    return job;
  }

  /** Extends the lease; DaemonError "lease_lost" when the Worker no longer holds it for us. */
  async heartbeat(job: ClaimedJob, leaseSeconds: number): Promise<RemediationJob> {
    return (
      await this.admin<{ job: RemediationJob }>("POST", `/jobs/${job.id}/heartbeat`, {
        leaseId: job.leaseId,
        leaseSeconds,
      })
    ).job;
  }

  /** Finishes the job; DaemonError "lease_lost" when the lease was lost. */
  async complete(job: ClaimedJob, completion: Completion): Promise<RemediationJob> {
    return (
      await this.admin<{ job: RemediationJob }>("POST", `/jobs/${job.id}/complete`, {
        leaseId: job.leaseId,
        ...completion,
      })
    ).job;
  }

  /** One job as the API shows it. */
  async job(id: number): Promise<RemediationJob> {
    return (await this.admin<{ job: RemediationJob }>("GET", `/jobs/${id}`)).job;
  }

  /**
   * Distinct prompt excerpts of the guard's events for `prefix` (normalised), newest
   * first, up to `limit` (events carry excerpts only when the guard's storeExcerpts is on).
   */
  async flaggedPrompts(prefix: string, limit: number): Promise<string[]> {
    if (limit === 0) return [];
    const { events } = await this.admin<{ events: { excerpt: string | null }[] }>(
      "GET",
      `/events?prefix=${encodeURIComponent(prefix)}&limit=${Math.min(1000, limit * 4)}`,
    );
    return [
      ...new Set(events.map((e) => e.excerpt).filter((x): x is string => typeof x === "string" && x.trim() !== "")),
    ].slice(0, limit);
  }

  /**
   * The flagged keys (normalised) that belong to a text (`flagged-keys.ts`: prefixes of it or
   * extending it, and word-aligned pieces of two words or more), most events first.
   */
  async prefixesMatching(normalised: string, max = 5): Promise<string[]> {
    const { prefixes } = await this.admin<{ prefixes: { prefix: string; events: number; state: string }[] }>(
      "GET",
      "/prefixes?limit=1000",
    );
    return keysOfText(prefixes, normalised, max);
  }

  /** The guard's window (tokens held back and inspected). */
  async prefixTokens(): Promise<number> {
    const { settings } = await this.admin<{ settings: { prefixTokens: number } }>("GET", "/settings");
    return settings.prefixTokens;
  }

  /** Uploads the guard's calibration for a version. */
  async putCalibration(version: string, body: CalibrationUpload): Promise<void> {
    await this.admin("PUT", `/versions/${encodeURIComponent(version)}/calibration`, body);
  }

  /** What the Worker serves now (this also starts its due manifest check). */
  async serving(): Promise<Serving> {
    const res = await this.send("GET", `${this.baseUrl}/v1/health`);
    const body = (await res.json().catch(() => ({}))) as { version?: string; status?: string };
    return { version: body.version ?? null, status: body.status ?? `HTTP ${res.status}` };
  }

  private async admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, `${this.baseUrl}/admin/api${path}`, body);
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as T;
    const message = (() => {
      try {
        return (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
      } catch {
        return text;
      }
    })();
    if (res.status === 409) throw new DaemonError("lease_lost", `${method} ${path}: ${message}`);
    if (res.status === 401) throw new DaemonError("config", `${method} ${path}: HTTP ${res.status}: ${message}`);
    throw new DaemonError("worker", `${method} ${path}: HTTP ${res.status}: ${message}`);
  }

  /**
   * One request. A connection that fails before any answer (typically a kept-alive
   * socket the server closed while training kept the event loop busy) is retried once
   * on a new connection.
   */
  private async send(method: string, url: string, body?: unknown): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(body !== undefined && { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (e) {
        const timedOut = e instanceof Error && e.name === "TimeoutError";
        if (attempt < 2 && !timedOut) continue;
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        throw new DaemonError(
          "worker",
          `${method} ${url} failed: ${(e as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ""}`,
          { cause: e },
        );
      }
    }
  }
}
