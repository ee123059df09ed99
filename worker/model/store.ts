/**
 * The model one isolate serves. Loads the manifest's current version on first
 * use, re-checks the manifest at an interval with a conditional GET, and swaps
 * in a new version only once it is downloaded, verified and built. A request
 * holds the {@link LoadedModel} it acquired, so a swap never disturbs it. When
 * the store fails or a file is corrupt, the last good version keeps serving and
 * the failure is reported by {@link ModelStore.status}.
 */
import { currentVersion } from "../../shared/protocol/manifest.js";
import { readManifest, StoreError, type S3Bucket, type StoreErrorKind } from "../../shared/store/index.js";
import { fetchModel, type LoadedModel } from "./load.js";

/** How a {@link ModelStore} reaches the store and how often it checks. */
export interface ModelStoreOptions {
  bucket: S3Bucket;
  manifestKey: string;
  /** Minimum ms between manifest checks; 0 checks on every request. */
  checkIntervalMs: number;
  /** Clock (ms since epoch), for tests. */
  now?: () => number;
}

/** What one manifest check did. */
export type CheckOutcome = "unchanged" | "loaded" | "failed";

/** The result of {@link ModelStore.check}. */
export interface CheckReport {
  outcome: CheckOutcome;
  /** The version served after the check (null when none could ever be loaded). */
  version: string | null;
  /** The failure, when outcome is "failed". */
  error?: StoreError;
}

/** The store's state as reported by the health endpoint and the admin API. */
export interface ModelStatus {
  /** ok: serving, last check fine; degraded: serving the last good version, last check failed; unavailable: nothing to serve. */
  status: "ok" | "degraded" | "unavailable";
  version: string | null;
  sha256: string | null;
  key: string | null;
  loadedAt: string | null;
  checkIntervalS: number;
  lastCheck: { at: string; outcome: CheckOutcome; durationMs: number } | null;
  lastError: { at: string; kind: StoreErrorKind; message: string; version: string | null } | null;
}

/** What serving needs from a model store (a {@link ModelStore}, or a stand-in in tests). */
export type ServedModels = Pick<ModelStore, "acquire" | "current" | "status">;

/** One isolate's model: see the module comment. */
export class ModelStore {
  private loaded: LoadedModel | undefined;
  /** ETag sent as If-None-Match: the manifest last applied (or rejected as corrupt). */
  private etag: string | undefined;
  /** Set while the manifest at `etag` names a file that failed verification: a 304 keeps reporting it. */
  private rejected: StoreError | undefined;
  private inflight: Promise<CheckReport> | undefined;
  private lastStart = -Infinity;
  private lastCheck: ModelStatus["lastCheck"] = null;
  private lastError: ModelStatus["lastError"] = null;
  private lastFailure: StoreError | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ModelStoreOptions) {
    if (!(options.checkIntervalMs >= 0))
      throw new StoreError("config", `model check interval must be >= 0 ms, got ${options.checkIntervalMs}`);
    this.now = options.now ?? Date.now;
  }

  /** The model now served, if any (no I/O). */
  current(): LoadedModel | undefined {
    return this.loaded;
  }

  /**
   * The model to serve this request with. Starts a background check when one is due
   * (handed to `waitUntil`, so the answer never waits for it). Before the first
   * successful load it waits for a load; it throws the StoreError when there is
   * nothing to serve (retrying the store at most once per interval).
   */
  async acquire(waitUntil?: (promise: Promise<unknown>) => void): Promise<LoadedModel> {
    if (this.loaded) {
      if (!this.inflight && this.now() - this.lastStart >= this.options.checkIntervalMs) waitUntil?.(this.check());
      return this.loaded;
    }
    if (
      !this.inflight &&
      this.lastFailure &&
      this.now() - this.lastStart < Math.min(this.options.checkIntervalMs, 5_000)
    )
      throw this.lastFailure;
    const loading = this.check();
    waitUntil?.(loading); // keeps the load alive for requests sharing it, should this one be cancelled
    const report = await loading;
    if (this.loaded) return this.loaded;
    throw report.error ?? this.lastFailure ?? new StoreError("unavailable", "no model loaded");
  }

  /**
   * Checks the manifest now (one check at a time: a caller during a check shares it).
   * `force` skips the conditional GET and retries a version rejected as corrupt.
   * Never throws: failures are in the report and in {@link status}.
   */
  check(options: { force?: boolean } = {}): Promise<CheckReport> {
    if (this.inflight) return options.force ? this.inflight.then(() => this.check(options)) : this.inflight;
    const run = this.run(options.force === true).finally(() => {
      this.inflight = undefined;
    });
    this.inflight = run;
    return run;
  }

  /** State for health reports. */
  status(): ModelStatus {
    const m = this.loaded;
    const failed = this.lastCheck?.outcome === "failed";
    return {
      status: !m ? "unavailable" : failed ? "degraded" : "ok",
      version: m?.version ?? null,
      sha256: m?.sha256 ?? null,
      key: m?.key ?? null,
      loadedAt: m ? new Date(m.loadedAt).toISOString() : null,
      checkIntervalS: this.options.checkIntervalMs / 1000,
      lastCheck: this.lastCheck,
      lastError: this.lastError,
    };
  }

  private async run(force: boolean): Promise<CheckReport> {
    const started = this.now();
    this.lastStart = started;
    const { bucket, manifestKey } = this.options;
    let version: string | null = null;
    let manifestEtag: string | null = null;
    try {
      const read = await readManifest(bucket, manifestKey, force ? undefined : this.etag);
      if (read === null)
        throw new StoreError("not_found", `no manifest at ${manifestKey} in bucket ${bucket.config.bucket}`);
      if (read === "unchanged") {
        if (this.rejected) throw this.rejected;
        return this.finish(started, "unchanged");
      }
      manifestEtag = read.etag;
      const target = currentVersion(read.manifest);
      version = target.version;
      const served = this.loaded;
      if (served && served.key === target.key && served.sha256 === target.sha256) {
        // Same weights (e.g. a rollback to an identical file): relabel without reloading.
        if (served.version !== target.version) this.loaded = { ...served, version: target.version };
        this.accept(read.etag);
        return this.finish(started, "unchanged");
      }
      const model = await fetchModel(bucket, target, this.now());
      this.loaded = model;
      this.accept(read.etag);
      return this.finish(started, "loaded");
    } catch (e) {
      const error =
        e instanceof StoreError
          ? e
          : new StoreError("unavailable", `model check failed: ${(e as Error).message}`, { cause: e });
      if (error.kind === "corrupt" && manifestEtag) {
        // Do not download a bad file again until the manifest changes (or a forced check).
        this.etag = manifestEtag;
        this.rejected = error;
      }
      this.lastFailure = error;
      this.lastError = {
        at: new Date(this.now()).toISOString(),
        kind: error.kind,
        message: error.message,
        version: version ?? this.rejectedVersion(error),
      };
      return this.finish(started, "failed", error);
    }
  }

  private accept(etag: string | null): void {
    this.etag = etag ?? undefined;
    this.rejected = undefined;
    this.lastFailure = undefined;
  }

  private rejectedVersion(error: StoreError): string | null {
    return error === this.rejected ? (this.lastError?.version ?? null) : null;
  }

  private finish(started: number, outcome: CheckOutcome, error?: StoreError): CheckReport {
    this.lastCheck = { at: new Date(started).toISOString(), outcome, durationMs: this.now() - started };
    return { outcome, version: this.loaded?.version ?? null, error };
  }
}
