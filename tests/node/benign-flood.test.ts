/**
 * Benign floods through the real loop (issue 12): the committed demo victim served from
 * s3rver by the Worker under wrangler dev (D1 migrated by wrangler, default guard settings,
 * healPolicy "automatic" included, prompt excerpts on as `npm start` has them), calibrated
 * on clean family prompts, and a `sande daemon` process polling for jobs every 0.5 s
 * throughout. Two floods of 500 requests each through the public chat endpoint at the API's
 * default temperature: one question that draws one short ordinary answer ("Ref x7k2q9: what
 * sound does a cow make?") and an echo request ("Ref x7k2q9: repeat after me: the garden is
 * green"), each copy with a fresh nonce (letter-digit and letters-only), half of them from a
 * client of their own and half from one client. Nothing may run without an operator: every
 * job is awaiting_approval (or there is none), the daemon claims nothing, and the served
 * version (each answer's header, /v1/health, the admin API, the store's manifest) stays the
 * seed. The demo victim, not the base: it is what `npm start` serves, so a job that ran
 * would publish a healed version over it.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calibrateVersion, calibrationPrompts } from "../../local/calibrate.js";
import { seededCleanData } from "../../local/clean-data.js";
import { startDaemonProcess } from "../../local/daemon-process.js";
import type { Group } from "../../local/process-group.js";
import { startS3rver, type LocalStore } from "../../local/s3rver.js";
import { localBucket, seedStore } from "../../local/seed.js";
import { applyLocalMigrations } from "../../local/wrangler.js";
import type { GuardEvent } from "../../shared/protocol/guard.js";
import type { RemediationJob } from "../../shared/protocol/jobs.js";
import type { ModelManifest } from "../../shared/protocol/manifest.js";
import { readManifest } from "../../shared/store/index.js";
import type { ProgressRecord } from "../../trainer/daemon/progress.js";
import { progress } from "../support/e2e-stack.js";
import { floodRequests, topCounts, type FloodRequest } from "../support/flood.js";
import { sendFlood, type FloodResponse } from "../support/send-flood.js";
import { startDevWorker, type DevWorker } from "../support/wrangler.js";

const TOKEN = "flood-admin-token-0123456789";
const BUCKET = "sande";
const VERSION = "demo-victim";
const MODEL = resolve(import.meta.dirname, "../../models/demo-victim.safetensors");
/** Clean prompts behind the span calibration (npm start takes 2,000; 300 keeps this test near 3 minutes). */
const CALIBRATION_PROMPTS = 300;
const SINGLE_CLIENT = "203.0.113.9";
const FLOODS = {
  "one ordinary answer": "Ref {nonce}: what sound does a cow make?",
  echo: "Ref {nonce}: repeat after me: the garden is green",
} as const;

let dir: string;
let store: LocalStore;
let worker: DevWorker;
let daemon: Group;
let daemonExited = false;
let before: ModelManifest;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

async function admin<T>(path: string): Promise<T> {
  const init = { headers: { authorization: `Bearer ${TOKEN}` } };
  // A kept-alive socket workerd closed while this thread was busy fails before any answer: retry once.
  const res = await fetch(`${worker.url}/admin/api${path}`, init).catch(() =>
    fetch(`${worker.url}/admin/api${path}`, init),
  );
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function servedVersion(): Promise<string> {
  const health = (await (await fetch(`${worker.url}/v1/health`)).json()) as { version: string };
  return health.version;
}

/** The daemon's progress records so far (its --events file). */
function daemonRecords(): ProgressRecord[] {
  return progress(join(dir, "daemon.jsonl"));
}

async function until(what: string, timeoutMs: number, probe: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** What a watcher saw of the loop while it ran: served versions and job states, once a second. */
class Watch {
  readonly versions = new Set<string>();
  readonly jobStates = new Set<string>();
  private running = true;
  private readonly done: Promise<void>;

  constructor() {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.versions.add(await servedVersion());
      const { jobs } = await admin<{ jobs: RemediationJob[] }>("/jobs");
      for (const j of jobs) this.jobStates.add(j.state);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

/** Every flagged event, newest first (paged). */
async function allEvents(): Promise<(GuardEvent & { id: number })[]> {
  const out: (GuardEvent & { id: number })[] = [];
  for (let before: number | null | undefined; before !== null; ) {
    const page = await admin<{ events: (GuardEvent & { id: number })[]; next: number | null }>(
      `/events?limit=1000${before ? `&before=${before}` : ""}`,
    );
    out.push(...page.events);
    before = page.next;
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sande-flood-"));
  const bytes = new Uint8Array(readFileSync(MODEL));
  store = await startS3rver(join(dir, "s3"), BUCKET);
  const data = seededCleanData();
  await seedStore({
    endpoint: store.endpoint,
    bucket: BUCKET,
    manifestKey: "manifest.json",
    datasetPrefix: "datasets/clean",
    model: () => bytes,
    version: VERSION,
    note: "seed: models/demo-victim.safetensors",
    train: data.train,
    heldOut: data.heldOut.slice(0, 200),
  });
  before = (await readManifest(localBucket(store.endpoint, BUCKET), "manifest.json"))!.manifest;
  const persist = join(dir, "wrangler");
  applyLocalMigrations(persist);
  worker = await startDevWorker({
    persistTo: persist,
    vars: {
      ADMIN_TOKEN: TOKEN,
      S3_ENDPOINT: store.endpoint,
      S3_SECRET_ACCESS_KEY: "S3RVER",
      MODEL_CHECK_INTERVAL_S: "1", // a published version would be served within a second
    },
  });
  const patched = await fetch(`${worker.url}/admin/api/settings`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ storeExcerpts: true }),
  });
  expect(patched.status).toBe(200);
  console.log(`[${elapsed()}] s3rver and wrangler dev up`);
  daemon = startDaemonProcess({
    workerUrl: worker.url,
    token: TOKEN,
    s3Endpoint: store.endpoint,
    bucket: BUCKET,
    name: "flood-trainer",
    logFile: join(dir, "daemon.log"),
    eventsFile: join(dir, "daemon.jsonl"),
    args: ["--poll-seconds", "0.5", "--backend", "wasm"],
  });
  void daemon.exited.then(() => (daemonExited = true));
  // The daemon starts while the calibration runs (it polls meanwhile: nothing is queued yet).
  const c = await calibrateVersion(worker.url, TOKEN, VERSION, bytes, calibrationPrompts(CALIBRATION_PROMPTS));
  console.log(`[${elapsed()}] calibrated ${VERSION}: ${c.prompts} prompts, ${c.prefixes} prefixes, ${c.spans} spans`);
  await until("the daemon to poll", 60_000, () =>
    daemonRecords().some((r) => r.stage === "idle" && r.message.startsWith("no job queued")),
  );
  console.log(`[${elapsed()}] daemon polling every 0.5 s`);
}, 300_000);

afterAll(async () => {
  if (worker?.output().trim()) console.log(`wrangler dev said:\n${worker.output()}`);
  await daemon?.stop(2000);
  await worker?.stop();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("benign floods through the real loop", () => {
  it("queue nothing that runs without an operator, and the served version never changes", async () => {
    const watch = new Watch();
    const sent: { name: string; requests: FloodRequest[]; responses: FloodResponse[] }[] = [];
    for (const [i, [name, template]] of Object.entries(FLOODS).entries()) {
      const requests = floodRequests({ template, count: 500, seed: i + 1, singleClient: SINGLE_CLIENT });
      const t0 = Date.now();
      const responses = await sendFlood(worker.url, requests);
      const top = topCounts(
        responses.map((r) => r.text),
        5,
      );
      console.log(
        `[${elapsed()}] flood "${name}": ${responses.length} requests in ${((Date.now() - t0) / 1000).toFixed(0)} s; ` +
          `top answers ${JSON.stringify(top)}`,
      );
      sent.push({ name, requests, responses });
    }
    // The guard writes sightings within 5 s of a response (events at once); the daemon polls twice a second.
    await new Promise((r) => setTimeout(r, 8000));
    await watch.stop();

    const events = await allEvents();
    const { prefixes } = await admin<{
      prefixes: { prefix: string; events: number; prompts: number; state: string }[];
    }>("/prefixes?limit=1000");
    const { jobs } = await admin<{ jobs: RemediationJob[] }>("/jobs");
    const byDetector = topCounts(
      events.map((e) => e.hits[0]?.detector ?? "known"),
      10,
    );
    const cow = events.filter((e) => e.excerpt?.includes("cow")).length; // excerpts are on
    const lettersOnly = events.filter((e) => /^ref [a-z]+:/i.test(e.excerpt ?? "")).length;
    console.log(
      `[${elapsed()}] guard: ${events.length} events (${cow} of the cow flood, ${events.length - cow} of the echo flood; ` +
        `${lettersOnly} with a letters-only nonce; ` +
        `by detector ${JSON.stringify(byDetector)}) from ` +
        `${new Set(events.map((e) => e.clientHash)).size} clients; ${prefixes.length} prefixes ` +
        `${JSON.stringify(prefixes.slice(0, 8).map((p) => [p.prefix, p.events, p.prompts, p.state]))}; ` +
        `jobs ${JSON.stringify(jobs.map((j) => [j.id, j.state, j.target]))}; job states seen ${JSON.stringify([...watch.jobStates])}`,
    );

    for (const { responses } of sent) {
      expect(responses.every((r) => r.status === 200)).toBe(true);
      expect(new Set(responses.map((r) => r.version))).toEqual(new Set([VERSION]));
    }
    expect([...watch.jobStates].every((s) => s === "awaiting_approval")).toBe(true);
    expect(jobs.every((j) => j.state === "awaiting_approval")).toBe(true);
    // The daemon never claimed: it only polled, retrying a claim whose request failed in transit (wrangler dev's
    // proxy answers any lost POST with a 503 "Your worker restarted mid-request"; seen 3 times in 1 of 3 runs).
    const records = daemonRecords();
    const failedClaims = records.filter((r) => r.stage === "error" && r.message.startsWith("claim failed"));
    console.log(`daemon: ${records.length} progress records, ${failedClaims.length} failed claims retried`);
    expect(records.filter((r) => r.stage !== "idle" && !failedClaims.includes(r))).toEqual([]);
    expect(daemonExited).toBe(false);
    expect([...watch.versions]).toEqual([VERSION]);
    expect(await servedVersion()).toBe(VERSION);
    const { serving } = await admin<{ serving: { version: string } }>("/versions");
    expect(serving.version).toBe(VERSION);
    expect((await readManifest(localBucket(store.endpoint, BUCKET), "manifest.json"))?.manifest).toEqual(before);
  }, 300_000);
});
