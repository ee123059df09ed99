import {
  NearDuplicates,
  promptKeyFromWords,
  spanWordsOf,
  type RecurrenceCounts,
  type SpanWord,
} from "../../shared/guard/index.js";
import type { GuardSettings } from "../../shared/protocol/guard.js";
import { DEFAULT_GUARD_SETTINGS } from "../../shared/protocol/guard.js";
import type { Database } from "../db/index.js";
import {
  loadCalibration,
  loadGuardState,
  unavailableState,
  withCalibration,
  type GuardState,
  type StoredCalibration,
} from "./state.js";
import { notifyTrainer, type WebhookTarget } from "../webhook/notify.js";
import type { CreatedJob } from "../db/jobs.js";
import { writeGuardBatch, type PendingEvent, type PendingSighting } from "./writer.js";

/** Tuning of a {@link GuardRuntime}; validated once, in the constructor. */
export interface GuardRuntimeOptions {
  /** Clock (ms); tests move it. */
  now?: () => number;
  /** Write when this many sightings are pending (events are written at once). Default 25. */
  sightingsPerWrite?: number;
  /** …or when the oldest pending sighting is this old. Default 5000 ms. */
  writeIntervalMs?: number;
  /** Delete sightings that left the recurrence window at most this often. Default 60 000 ms. */
  pruneIntervalMs?: number;
  /** Keep serving a state that could not be refreshed for this long before the fail mode applies. Default 300 000 ms. */
  staleMaxMs?: number;
  /** After a failed load, wait this long before trying D1 again (requests meanwhile use the fallback). Default 2000 ms. */
  retryMs?: number;
  /** Reload a version's calibration this often. Default 300 000 ms. */
  calibrationTtlMs?: number;
  /** Recent prompts remembered for near-duplicate matching. Default 2048. */
  recentPrompts?: number;
}

type Resolved = Required<GuardRuntimeOptions>;

/** Most sightings an isolate keeps counted locally between two state loads. */
const MAX_LOCAL_SIGHTINGS = 50_000;

interface VersionEntry {
  state?: GuardState;
  loading?: Promise<GuardState>;
  calibration?: { value: StoredCalibration | null; loadedAt: number };
  failedAt?: number;
  /** Sightings of this isolate not yet in `state.traffic`: prefix → prompt hashes. */
  local: Map<string, Set<string>>;
  localTotal: number;
}

/**
 * The guard's per-isolate part: a cache of the state loaded from D1 per model version
 * (refreshed every `settings.cacheSeconds`, one load shared by concurrent requests),
 * this isolate's recent sightings (added to the loaded counts, so recurrence reacts
 * before the next load), and the buffer of writes made in `ctx.waitUntil`.
 */
export class GuardRuntime {
  private readonly options: Resolved;
  private readonly versions = new Map<string, VersionEntry>();
  private events: PendingEvent[] = [];
  private sightings: PendingSighting[] = [];
  private lastPrune = 0;
  private settings: GuardSettings = DEFAULT_GUARD_SETTINGS;
  private loadedOnce = false;
  private readonly recent: NearDuplicates;

  constructor(options: GuardRuntimeOptions = {}) {
    const o: Resolved = {
      now: options.now ?? Date.now,
      sightingsPerWrite: options.sightingsPerWrite ?? 400,
      writeIntervalMs: options.writeIntervalMs ?? 5000,
      pruneIntervalMs: options.pruneIntervalMs ?? 60_000,
      staleMaxMs: options.staleMaxMs ?? 300_000,
      retryMs: options.retryMs ?? 2000,
      calibrationTtlMs: options.calibrationTtlMs ?? 300_000,
      recentPrompts: options.recentPrompts ?? 2048,
    };
    for (const key of [
      "sightingsPerWrite",
      "writeIntervalMs",
      "pruneIntervalMs",
      "staleMaxMs",
      "retryMs",
      "calibrationTtlMs",
    ] as const) {
      if (!Number.isFinite(o[key]) || o[key] < 0)
        throw new RangeError(`GuardRuntime: ${key} must be a finite number ≥ 0, got ${o[key]}`);
    }
    if (typeof o.now !== "function") throw new TypeError("GuardRuntime: now must be a function");
    this.options = o;
    this.recent = new NearDuplicates(o.recentPrompts);
  }

  /**
   * The hash a prompt is counted under: sha256 of its normalised text, or that of a recent
   * prompt of this isolate within a few simhash bits (near-duplicates count once). `words`:
   * the prompt's span words, when the caller has them already.
   */
  promptHash(promptText: string, words: readonly SpanWord[] = spanWordsOf(promptText)): string {
    return this.recent.canonical(promptKeyFromWords(promptText, words));
  }

  /** Current time of the runtime's clock. */
  now(): number {
    return this.options.now();
  }

  /**
   * The state for `modelVersion`: cached, or loaded from D1. Never throws: when D1 fails
   * it returns the last state (marked "stale") for up to `staleMaxMs`, then a stand-in
   * marked "unavailable" whose settings carry the fail mode: the stored setting last
   * loaded, or `failMode` (GUARD_FAIL_MODE) when nothing was ever loaded, else "open".
   */
  async state(db: Database, modelVersion: string, failMode?: "open" | "closed"): Promise<GuardState> {
    const now = this.now();
    const entry = this.entry(modelVersion);
    const cached = entry.state;
    if (cached && now - cached.loadedAt < cached.settings.cacheSeconds * 1000) return cached;
    if (entry.failedAt !== undefined && now - entry.failedAt < this.options.retryMs)
      return this.fallback(entry, modelVersion, now, failMode);
    entry.loading ??= this.load(db, entry, modelVersion).finally(() => (entry.loading = undefined));
    try {
      return await entry.loading;
    } catch (e) {
      entry.failedAt = now;
      console.warn(
        `guard: cannot load state from D1 (${(e as Error).message}); ${cached ? "using the last state" : "no state yet"}`,
      );
      return this.fallback(entry, modelVersion, now, failMode);
    }
  }

  /**
   * Installs a state as if just loaded from D1 (benchmarks, and tests of serving that
   * need no database). It is reused for `settings.cacheSeconds` like a loaded one.
   */
  prime(state: GuardState): void {
    const entry = this.entry(state.modelVersion);
    entry.state = state;
    entry.calibration = { value: null, loadedAt: state.loadedAt };
    this.settings = state.settings;
    this.loadedOnce = true;
  }

  /** Drops cached states, so the next request reloads (admin writes call it for their own isolate). */
  invalidate(): void {
    for (const entry of this.versions.values()) {
      entry.state = undefined;
      entry.calibration = undefined;
      entry.failedAt = undefined;
    }
  }

  /** Counts a response of this isolate and returns the prefix's live counts, this one included. */
  sight(sighting: PendingSighting, state: GuardState): RecurrenceCounts {
    const entry = this.entry(sighting.modelVersion);
    const prompts = this.count(entry, sighting);
    return { prompts: (state.traffic.get(sighting.prefix) ?? 0) + prompts, total: state.total + entry.localTotal };
  }

  /** Adds a sighting to the local counts (and the pending writes, when new); returns the prefix's local prompts. */
  private count(entry: VersionEntry, sighting: PendingSighting): number {
    if (entry.localTotal >= MAX_LOCAL_SIGHTINGS) {
      // D1 has not been readable for a long while: forget rather than grow without bound.
      entry.local.clear();
      entry.localTotal = 0;
    }
    let prompts = entry.local.get(sighting.prefix);
    if (!prompts) entry.local.set(sighting.prefix, (prompts = new Set()));
    if (!prompts.has(sighting.promptHash)) {
      prompts.add(sighting.promptHash);
      entry.localTotal++;
      this.sightings.push(sighting);
    }
    return prompts.size;
  }

  /**
   * Counts one response's span keys (and the reserved key "" once per response, so that
   * count("") is n, the distinct prompts) and returns the live count of any key: loaded
   * D1 counts plus this isolate's pending sightings.
   */
  sightSpans(
    answer: Omit<PendingSighting, "prefix">,
    keys: readonly string[],
    state: GuardState,
  ): (key: string) => number {
    const entry = this.entry(answer.modelVersion);
    this.count(entry, { ...answer, prefix: "" });
    for (const prefix of keys) this.count(entry, { ...answer, prefix });
    return this.liveCount(answer.modelVersion, state);
  }

  /** Live distinct prompts of a key (loaded counts plus this isolate's pending ones), without counting anything. */
  liveCount(modelVersion: string, state: GuardState): (key: string) => number {
    const entry = this.entry(modelVersion);
    return (key) => (state.traffic.get(key) ?? 0) + (entry.local.get(key)?.size ?? 0);
  }

  /** Queues a flagged response for writing. */
  record(event: PendingEvent): void {
    this.events.push(event);
  }

  /** Whether a write is due: events pending, enough sightings, or the oldest is old enough. */
  writeDue(): boolean {
    if (this.events.length > 0) return true;
    if (this.sightings.length === 0) return false;
    return (
      this.sightings.length >= this.options.sightingsPerWrite ||
      this.now() - this.sightings[0].at >= this.options.writeIntervalMs
    );
  }

  /**
   * Writes everything pending (one D1 batch) and notifies the trainer of jobs the
   * threshold rule created. On failure the batch is dropped and logged: guard writes
   * never hold up or fail a response.
   */
  async flush(db: Database, webhook?: WebhookTarget): Promise<CreatedJob[]> {
    const events = this.events;
    const sightings = this.sightings;
    if (events.length === 0 && sightings.length === 0) return [];
    this.events = [];
    this.sightings = [];
    await null; // build the statements after the caller (finish) has returned
    const now = this.now();
    const prune = now - this.lastPrune >= this.options.pruneIntervalMs;
    if (prune) this.lastPrune = now;
    let created: CreatedJob[];
    try {
      created = await writeGuardBatch(db, { events, sightings, settings: this.settings, now, prune });
    } catch (e) {
      console.error(
        `guard: lost a write of ${events.length} events and ${sightings.length} sightings: ${(e as Error).message}`,
      );
      return [];
    }
    // A job awaiting an operator's approval is announced when approved (admin API), not now.
    const queued = created.filter((job) => job.state === "queued");
    if (webhook && queued.length > 0) {
      await Promise.all(queued.map((job) => notifyTrainer(webhook, { type: "job.queued", job })));
    }
    return created;
  }

  private entry(modelVersion: string): VersionEntry {
    let entry = this.versions.get(modelVersion);
    if (!entry) this.versions.set(modelVersion, (entry = { local: new Map(), localTotal: 0 }));
    return entry;
  }

  private async load(db: Database, entry: VersionEntry, modelVersion: string): Promise<GuardState> {
    const started = this.now();
    const calibrationDue = !entry.calibration || started - entry.calibration.loadedAt >= this.options.calibrationTtlMs;
    const [state, calibration] = await Promise.all([
      loadGuardState(db, modelVersion, started),
      calibrationDue ? loadCalibration(db, modelVersion) : Promise.resolve(entry.calibration!.value),
    ]);
    if (calibrationDue) entry.calibration = { value: calibration, loadedAt: started };
    const loaded = withCalibration(state, calibration);
    entry.state = loaded;
    entry.failedAt = undefined;
    this.settings = loaded.settings;
    this.loadedOnce = true;
    // The loaded counts include every sighting written before the load; keep only the pending ones locally.
    entry.local.clear();
    entry.localTotal = 0;
    for (const s of this.sightings) {
      if (s.modelVersion !== modelVersion) continue;
      let set = entry.local.get(s.prefix);
      if (!set) entry.local.set(s.prefix, (set = new Set()));
      set.add(s.promptHash);
      entry.localTotal++;
    }
    return loaded;
  }

  private fallback(entry: VersionEntry, modelVersion: string, now: number, failMode?: "open" | "closed"): GuardState {
    const last = entry.state;
    if (last && now - last.loadedAt <= this.options.staleMaxMs) return { ...last, degraded: "stale" };
    const settings = last?.settings ?? this.settings;
    return unavailableState(modelVersion, now, {
      ...settings,
      failMode: this.loadedOnce ? settings.failMode : (failMode ?? settings.failMode),
    });
  }
}
