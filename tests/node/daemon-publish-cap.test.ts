/**
 * The cap on automatic publishes, every part real: the Worker under wrangler dev (D1 migrated
 * by wrangler) serving a tiny model from s3rver, whose manifest already lists three versions
 * published automatically within the day. One chat answer crosses the threshold rule (an
 * operator regex every answer matches, one event needed), and `sande daemon`'s loop, run
 * here with the default --max-publishes-per-day 3, claims the job and completes it as
 * rejected, naming the cap, before downloading or training anything; the manifest is unchanged.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import type { RemediationJob } from "../../shared/protocol/jobs.js";
import type { ModelManifest } from "../../shared/protocol/manifest.js";
import { readManifest } from "../../shared/store/index.js";
import { resolveDaemonOptions, runDaemon } from "../../trainer/daemon/index.js";
import { Reporter } from "../../trainer/daemon/progress.js";
import {
  putManifest,
  S3RVER_KEY,
  startLocalS3,
  TEST_BUCKET,
  tinyModelFile,
  uploadModel,
  type LocalS3,
} from "../support/s3.js";
import { applyLocalMigrations } from "../../local/wrangler.js";
import { startDevWorker, type DevWorker } from "../support/wrangler.js";

const TOKEN = "cap-admin-token-0123456789";
let s3: LocalS3;
let worker: DevWorker;
let dir: string;
let before: ModelManifest;

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${worker.url}/admin/api${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sande-cap-"));
  s3 = await startLocalS3();
  const config = preset("tiny");
  const seed = await uploadModel(s3.bucket, tinyModelFile(5), "seed", config);
  const hourAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();
  const healed = [1, 2, 3].map((i) => ({
    ...seed,
    version: `job${i}-auto`,
    parent: "seed",
    createdAt: hourAgo(4 - i),
    metrics: { jobId: i, automatic: 1 },
  }));
  before = await putManifest(s3.bucket, [{ ...seed, createdAt: hourAgo(48) }, ...healed], "seed");
  const persist = join(dir, "wrangler");
  applyLocalMigrations(persist);
  worker = await startDevWorker({
    persistTo: persist,
    vars: {
      ADMIN_TOKEN: TOKEN,
      S3_ENDPOINT: s3.endpoint,
      S3_SECRET_ACCESS_KEY: S3RVER_KEY,
      MODEL_CHECK_INTERVAL_S: "1",
    },
  });
}, 240_000);

afterAll(async () => {
  await worker?.stop();
  await s3?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the daemon's cap on automatic publishes", () => {
  it("rejects an automatic job once three versions were healed automatically today, publishing nothing", async () => {
    await admin("PATCH", "/settings", { jobMinEvents: 1, jobMinDistinctPrompts: 1 });
    await admin("POST", "/phrases", { kind: "regex", pattern: "[\\s\\S]" }); // any answer, even one of newlines
    const chat = await fetch(`${worker.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "sande-demo",
        max_tokens: 20,
        temperature: 0,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    expect(chat.status).toBe(200);
    let jobs: RemediationJob[] = [];
    for (let i = 0; i < 100 && jobs.length === 0; i++) {
      jobs = (await admin<{ jobs: RemediationJob[] }>("GET", "/jobs")).jobs; // the guard writes in waitUntil
      if (jobs.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(jobs).toEqual([expect.objectContaining({ state: "queued", source: "threshold" })]);

    const options = resolveDaemonOptions(
      {
        worker: worker.url,
        token: TOKEN,
        "s3-endpoint": s3.endpoint,
        bucket: TEST_BUCKET,
        "access-key-id": S3RVER_KEY,
        "s3-region": "us-east-1",
        once: true,
        "poll-seconds": "0.2",
        backend: "cpu",
      },
      { S3_SECRET_ACCESS_KEY: S3RVER_KEY },
    );
    expect(options.maxPublishesPerDay).toBe(3);
    const lines: string[] = [];
    const [outcome, ...more] = await runDaemon(
      options,
      AbortSignal.timeout(60_000),
      new Reporter("cap-test", undefined, (l) => lines.push(l)),
    );
    expect(more).toHaveLength(0);
    expect(outcome.state).toBe("rejected");
    expect(outcome.reason).toMatch(/^publish cap reached: 3 automatically healed versions published in the last 24 h/);
    expect(outcome.stages.download).toBe(0); // refused before any download or training
    const { job } = await admin<{ job: RemediationJob }>("GET", `/jobs/${jobs[0].id}`);
    expect(job).toMatchObject({ state: "rejected", reason: outcome.reason });
    expect((await readManifest(s3.bucket, "manifest.json"))?.manifest).toEqual(before);
  }, 120_000);
});
