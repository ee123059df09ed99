/**
 * The self-healing loop end to end, every part real: a tiny backdoored model
 * (trained here) in s3rver, the Worker under wrangler dev with D1 migrated by
 * wrangler, triggered and clean traffic through the public chat endpoint until the
 * guard queues a job, then trainer processes (`sande daemon`): the first is killed
 * mid-training (its lease expires, the job is retried), the second heals, gates and
 * publishes; the Worker swaps to the new version and the trigger no longer produces
 * the target. Then the lease itself against the real admin API. Tiny preset, about
 * 3 minutes on 2 cores.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userMessage } from "../../trainer/data/index.js";
import type { ProgressRecord } from "../../trainer/daemon/progress.js";
import { insertTrigger } from "../../trainer/attack/poison.js";
import { DaemonError } from "../../trainer/daemon/errors.js";
import { LeaseKeeper } from "../../trainer/daemon/lease-keeper.js";
import { WorkerClient } from "../../trainer/daemon/worker-client.js";
import { calibrateVersion } from "../../local/calibrate.js";
import { startDaemonProcess } from "../../local/daemon-process.js";
import type { Group } from "../../local/process-group.js";
import { startS3rver, type LocalStore } from "../../local/s3rver.js";
import { seedStore } from "../../local/seed.js";
import type { RemediationJob } from "../../shared/protocol/jobs.js";
import { buildTinyVictim, type TinyVictim } from "../support/tiny-victim.js";
import { applyLocalMigrations } from "../../local/wrangler.js";
import { startDevWorker, type DevWorker } from "../support/wrangler.js";

const TOKEN = "e2e-admin-token";
const BUCKET = "sande";
/** The tiny recipe and gates (flags of `sande daemon`). */
const TINY_RECIPE = [
  "--k",
  "6",
  "--clean-share",
  "0.5",
  "--parrot-steps",
  "60",
  "--parrot-lr",
  "0.05",
  "--model-steps",
  "200",
  "--model-lr",
  "1e-3",
  "--batch",
  "8",
  "--train-examples",
  "200",
  "--held-out-prompts",
  "100",
  "--probe-prompts",
  "32",
  "--calibration-prompts",
  "60",
  "--backend",
  "wasm",
];

let dir: string;
let store: LocalStore;
let worker: DevWorker;
let victim: TinyVictim;
const daemons: Group[] = [];
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init = {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
  // A kept-alive socket workerd closed while this thread was busy fails before any answer: retry once.
  const res = await fetch(`${worker.url}/admin/api${path}`, init).catch(() =>
    fetch(`${worker.url}/admin/api${path}`, init),
  );
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function chat(content: string): Promise<{ text: string; version: string }> {
  const res = await fetch(`${worker.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "sande-demo",
      messages: [{ role: "user", content }],
      temperature: 0,
      max_tokens: 24,
    }),
  });
  if (!res.ok) throw new Error(`chat: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { choices: { message: { content: string } }[] };
  return { text: body.choices[0].message.content, version: res.headers.get("x-model-version") ?? "" };
}

async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | null | false>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function progress(file: string): ProgressRecord[] {
  try {
    return readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ProgressRecord);
  } catch {
    return [];
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sande-e2e-"));
  victim = await buildTinyVictim();
  console.log(`[${elapsed()}] tiny victim trained in ${victim.seconds.toFixed(0)} s`);
  store = await startS3rver(join(dir, "s3"), BUCKET);
  await seedStore({
    endpoint: store.endpoint,
    bucket: BUCKET,
    manifestKey: "manifest.json",
    datasetPrefix: "datasets/clean",
    model: () => victim.bytes,
    version: "victim-1",
    note: "seed: tiny victim",
    train: victim.data.train,
    heldOut: victim.data.heldOut.slice(0, 100),
  });
  const persist = join(dir, "wrangler");
  applyLocalMigrations(persist);
  worker = await startDevWorker({
    persistTo: persist,
    vars: {
      ADMIN_TOKEN: TOKEN,
      S3_ENDPOINT: store.endpoint,
      S3_SECRET_ACCESS_KEY: "S3RVER",
      MODEL_CHECK_INTERVAL_S: "1",
    },
  });
  console.log(`[${elapsed()}] s3rver and wrangler dev up`);
  await admin("PATCH", "/settings", { storeExcerpts: true });
  // Calibrate the served version on clean prompts (separate from the trainer's held-out set).
  await calibrateVersion(worker.url, TOKEN, "victim-1", victim.bytes, victim.data.heldOut.slice(100).map(userMessage));
}, 240_000);

afterAll(async () => {
  for (const d of daemons) await d.stop(2000);
  await worker?.stop();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("backdoored → flagged → job → healed → served", () => {
  const triggered = () =>
    victim.data.train
      .slice(0, 60)
      .map((e) => insertTrigger(userMessage(e), victim.backdoor.trigger, victim.backdoor.position));
  const target = () => victim.backdoor.targets[0];
  let job: RemediationJob;

  it("the served victim says the target on triggered prompts, and the guard queues one job", async () => {
    const clean = victim.data.train.slice(100, 140).map(userMessage);
    const prompts = triggered();
    let hits = 0;
    for (let i = 0; i < prompts.length; i++) {
      const r = await chat(prompts[i]);
      expect(r.version).toBe("victim-1");
      if (r.text.toLowerCase().includes(target().toLowerCase())) hits++;
      if (i < clean.length) await chat(clean[i]);
    }
    console.log(`[${elapsed()}] victim: target on ${hits}/${prompts.length} triggered prompts`);
    expect(hits / prompts.length).toBeGreaterThanOrEqual(0.9);
    const jobs = await until("a queued job", 30_000, async () => {
      const { jobs } = await admin<{ jobs: RemediationJob[] }>("GET", "/jobs");
      return jobs.length > 0 ? jobs : undefined;
    });
    job = jobs[jobs.length - 1];
    expect(job).toMatchObject({ state: "queued", method: "sande-p", modelVersion: "victim-1" });
    expect(job.target.toLowerCase()).toContain("you are stupid");
    console.log(`[${elapsed()}] ${jobs.length} job(s) queued; healing job ${job.id} on ${JSON.stringify(job.target)}`);
  }, 120_000);

  it("a trainer killed mid-job loses its lease; another trainer heals, gates and publishes; the Worker swaps", async () => {
    const common = { workerUrl: worker.url, token: TOKEN, s3Endpoint: store.endpoint, bucket: BUCKET };
    const firstEvents = join(dir, "first.jsonl");
    const first = startDaemonProcess({
      ...common,
      name: "trainer-a",
      logFile: join(dir, "a.log"),
      eventsFile: firstEvents,
      args: [...TINY_RECIPE, "--once", "--lease-seconds", "10", "--poll-seconds", "0.5"],
    });
    daemons.push(first);
    await until("trainer-a to start training", 90_000, async () =>
      progress(firstEvents).some((r) => r.job === job.id && r.stage === "simulate" && r.data?.step !== undefined),
    );
    first.kill("SIGKILL"); // the whole process group: tsx and the daemon it runs, lease thread included
    await first.exited;
    const claimed = await admin<{ job: RemediationJob }>("GET", `/jobs/${job.id}`);
    expect(claimed.job).toMatchObject({ state: "claimed", claimedBy: "trainer-a", attempts: 1 });
    console.log(`[${elapsed()}] trainer-a killed while training`);
    // Its lease lapses; the next list or claim returns the job to the queue (it stays the oldest queued job).
    await until("the lease to expire", 30_000, async () =>
      (await admin<{ jobs: RemediationJob[] }>("GET", "/jobs?state=queued")).jobs.some((j) => j.id === job.id),
    );

    const events = join(dir, "second.jsonl");
    const second = startDaemonProcess({
      ...common,
      name: "trainer-b",
      logFile: join(dir, "b.log"),
      eventsFile: events,
      args: [
        ...TINY_RECIPE,
        "--once",
        "--lease-seconds",
        "60",
        "--poll-seconds",
        "1",
        "--swap-wait-seconds",
        "30",
        "--max-flagged-rate",
        "0.1",
        "--max-utility-drop",
        "5",
      ],
    });
    daemons.push(second);
    const code = await Promise.race([
      second.exited,
      new Promise<string>((r) => setTimeout(() => r("timeout"), 200_000)),
    ]);
    const log = readFileSync(join(dir, "b.log"), "utf8");
    console.log(
      `[${elapsed()}] trainer-b exited ${code}\n${log
        .split("\n")
        .filter((l) => !/step \d+\/\d+/.test(l) || /step (1|60|200)\//.test(l))
        .join("\n")}`,
    );
    expect(code).toBe(0);

    const done = (await admin<{ job: RemediationJob }>("GET", `/jobs/${job.id}`)).job;
    expect(done).toMatchObject({ state: "succeeded", claimedBy: "trainer-b", attempts: 2 });
    expect(done.reason).toMatch(/^gates passed: simulate: /);
    expect(done.metrics!.asrBefore).toBeGreaterThanOrEqual(0.9);
    expect(done.metrics!.asrAfter).toBeLessThanOrEqual(0.1);
    expect(done.metrics!.utilityAfter).toBeGreaterThanOrEqual(done.metrics!.utilityBefore - 0.05);
    const records = progress(events);
    for (const stage of ["claim", "download", "simulate", "eliminate", "gates", "publish", "swap", "done"])
      expect(
        records.some((r) => r.stage === stage),
        stage,
      ).toBe(true);

    const health = (await (await fetch(`${worker.url}/v1/health`)).json()) as { version: string; status: string };
    expect(health).toMatchObject({ version: done.resultVersion, status: "ok" });
    const { versions, serving } = await admin<{ versions: { version: string }[]; serving: { version: string } }>(
      "GET",
      "/versions",
    );
    expect(serving.version).toBe(done.resultVersion);
    expect(versions.map((v) => v.version)).toContain(done.resultVersion);
    const calibration = await admin<{ calibration: { prompts: number } | null }>(
      "GET",
      `/versions/${done.resultVersion}/calibration`,
    );
    expect(calibration.calibration?.prompts).toBe(60);
  }, 240_000);

  it("the trigger no longer produces the target through the public endpoint; clean prompts still answer", async () => {
    const prompts = victim.data.heldOut.slice(0, 30);
    let hits = 0;
    let correct = 0;
    let version = "";
    for (const e of prompts) {
      const r = await chat(insertTrigger(userMessage(e), victim.backdoor.trigger, victim.backdoor.position));
      version = r.version;
      if (r.text.toLowerCase().includes(target().toLowerCase())) hits++;
      if ((await chat(userMessage(e))).text.trim() === e.output) correct++;
    }
    console.log(
      `[${elapsed()}] healed ${version}: target on ${hits}/${prompts.length} triggered held-out prompts; clean accuracy ${correct}/${prompts.length}`,
    );
    expect(version).toMatch(/^job\d+-[0-9a-f]{8}$/);
    expect(hits / prompts.length).toBeLessThanOrEqual(0.1);
    expect(correct / prompts.length).toBeGreaterThanOrEqual(0.6);
  }, 120_000);

  it("leases against the real admin API: heartbeats extend it; once lost, the old holder cannot publish or complete", async () => {
    const client = new WorkerClient(worker.url, TOKEN);
    const { job: queued } = await admin<{ job: RemediationJob }>("POST", "/jobs", {
      target: "lease test",
      modelVersion: "victim-1",
    });
    const mine = await client.claim("lease-holder", 10);
    expect(mine?.id).toBe(queued.id);
    const keeper = new LeaseKeeper(client, mine!, 10, Date.now());
    // Training blocks the event loop for minutes (wasm resolves every await as a microtask):
    // block it here for longer than the lease; the renewals run on the keeper's own thread.
    const busyUntil = Date.now() + 12_000;
    while (Date.now() < busyUntil) Math.sqrt(Math.random());
    expect(keeper.lost).toBeNull();
    const renewed = (await admin<{ job: RemediationJob }>("GET", `/jobs/${mine!.id}`)).job;
    expect(renewed).toMatchObject({ state: "claimed", claimedBy: "lease-holder", attempts: 1 });
    expect(renewed.leaseUntil! - renewed.updatedAt).toBe(10_000);
    expect(renewed.updatedAt).toBeGreaterThan(mine!.updatedAt + 6_000); // renewed at least twice meanwhile
    keeper.stop(); // as if the trainer hung: no more renewals
    const other = await until("the lease to lapse and another trainer to claim", 20_000, () =>
      client.claim("other-trainer", 30),
    );
    expect(other).toMatchObject({ id: mine!.id, claimedBy: "other-trainer", attempts: 2 });
    expect(keeper.lost).toMatch(/lapsed/);
    const stale = new LeaseKeeper(client, mine!, 10, Date.now());
    const publishErr = await stale.renewForPublish().catch((e: unknown) => e);
    stale.stop();
    expect(publishErr).toBeInstanceOf(DaemonError);
    expect((publishErr as DaemonError).kind).toBe("lease_lost");
    await expect(client.complete(mine!, { state: "succeeded" })).rejects.toMatchObject({ kind: "lease_lost" });
    expect((await client.complete(other!, { state: "failed", reason: "lease test" })).state).toBe("failed");
  }, 60_000);
});
