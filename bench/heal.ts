/**
 * `npm run bench:heal`: wall time from "job claimed" to "new version served", split
 * by stage (download, simulate, eliminate, gates, publish, swap), with every part
 * real: s3rver, the Worker under wrangler dev, `sande daemon` as its own process.
 * The job is queued by hand (as an operator would) so traffic does not share the CPU.
 *
 *   npm run bench:heal [-- --model FILE] [--backend wasm|cpu|webgpu|tensorflow] [-- daemon flags…]
 *
 * Default model: models/demo-victim.safetensors when present (the daemon's default
 * recipe), else a tiny victim trained here (tiny recipe).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parameterCount } from "../shared/model/config.js";
import { decodeModel } from "../shared/model/file.js";
import type { RemediationJob } from "../shared/protocol/jobs.js";
import { DEFAULT_DATASET_PREFIX, DEFAULT_MANIFEST_KEY } from "../shared/store/keys.js";
import { TINY_HEAL_RECIPE } from "../tests/support/e2e-stack.js";
import { buildTinyVictim } from "../tests/support/tiny-victim.js";
import { applyLocalMigrations } from "../local/wrangler.js";
import { startDevWorker } from "../tests/support/wrangler.js";
import { generateDataset, type Example } from "../trainer/data/index.js";
import type { ProgressRecord } from "../trainer/daemon/progress.js";
import { startDaemonProcess } from "../local/daemon-process.js";
import { startS3rver } from "../local/s3rver.js";
import { seedStore } from "../local/seed.js";

const ROOT = resolve(import.meta.dirname, "..");
const TOKEN = "bench-token";
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { model: { type: "string" }, backend: { type: "string" }, target: { type: "string" } },
});
const TINY_RECIPE = [...TINY_HEAL_RECIPE, "--max-utility-drop", "5"];

const dir = mkdtempSync(join(tmpdir(), "sande-bench-heal-"));
const demoVictim = join(ROOT, "models/demo-victim.safetensors");
const modelPath = values.model ?? (existsSync(demoVictim) ? demoVictim : undefined);
let bytes: Uint8Array<ArrayBuffer>;
let train: Example[];
let heldOut: Example[];
let recipe: string[];
let what: string;
if (modelPath) {
  bytes = new Uint8Array(readFileSync(modelPath));
  ({ train, heldOut } = generateDataset({ seed: 0, trainSize: 4000, heldOutSize: 320 }));
  recipe = [];
  what = `${modelPath.replace(ROOT + "/", "")}, daemon's default recipe`;
} else {
  const victim = await buildTinyVictim();
  bytes = victim.bytes;
  ({ train, heldOut } = victim.data);
  recipe = TINY_RECIPE;
  what = `tiny victim trained here in ${victim.seconds.toFixed(0)} s, tiny recipe`;
}
const config = decodeModel(bytes).config;
const store = await startS3rver(join(dir, "s3"), "sande");
await seedStore({
  endpoint: store.endpoint,
  bucket: "sande",
  manifestKey: DEFAULT_MANIFEST_KEY,
  datasetPrefix: DEFAULT_DATASET_PREFIX,
  model: () => bytes,
  version: "victim",
  note: "bench seed",
  train,
  heldOut: heldOut.slice(0, 200),
});
const persist = join(dir, "wrangler");
applyLocalMigrations(persist);
const worker = await startDevWorker({
  persistTo: persist,
  vars: {
    ADMIN_TOKEN: TOKEN,
    S3_ENDPOINT: store.endpoint,
    S3_SECRET_ACCESS_KEY: "S3RVER",
    MODEL_CHECK_INTERVAL_S: "1",
  },
});
try {
  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  await (await fetch(`${worker.url}/v1/health`)).body?.cancel(); // load the seed version
  const queued = await fetch(`${worker.url}/admin/api/jobs`, {
    method: "POST",
    headers,
    body: JSON.stringify({ target: values.target ?? "You are stupid", modelVersion: "victim" }),
  });
  if (!queued.ok) throw new Error(`queueing the job: HTTP ${queued.status} ${await queued.text()}`);
  const { job } = (await queued.json()) as { job: RemediationJob };
  const events = join(dir, "trainer.jsonl");
  const daemon = startDaemonProcess({
    workerUrl: worker.url,
    token: TOKEN,
    s3Endpoint: store.endpoint,
    bucket: "sande",
    name: "bench-trainer",
    logFile: join(dir, "trainer.log"),
    eventsFile: events,
    args: [...recipe, "--once", "--swap-wait-seconds", "120", "--backend", values.backend ?? "auto", ...positionals],
    echo: (l) => process.stderr.write(`  ${l}\n`),
  });
  const code = await daemon.exited;
  const records = readFileSync(events, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as ProgressRecord);
  const backend = records[0].message.split("; worker ")[0];
  const claimed = records.find((r) => r.stage === "claim" && r.job === job.id);
  const served = records.find(
    (r) => r.stage === "swap" && r.job === job.id && r.message.startsWith("the Worker serves"),
  );
  const done = records.find((r) => r.stage === "done" && r.job === job.id);
  if (code !== 0 || !claimed || !served || !done)
    throw new Error(
      `the daemon did not heal and serve (exit ${code}); log: ${join(dir, "trainer.log")}\n${readFileSync(join(dir, "trainer.log"), "utf8").slice(-3000)}`,
    );
  const wall = (served.at - claimed.at) / 1000;
  const stages = ["download", "simulate", "eliminate", "gates", "publish", "swap"].map(
    (s) => [s, Number(done.data?.[`${s}Seconds`] ?? 0)] as const,
  );
  const other = wall - stages.reduce((a, [, v]) => a + v, 0);
  const final = (await (await fetch(`${worker.url}/admin/api/jobs/${job.id}`, { headers })).json()) as {
    job: RemediationJob;
  };
  console.log(
    `\nbench:heal: ${what}; ${parameterCount(config).toLocaleString("en")} params (C${config.n_embd} L${config.n_layer}); ${backend}; ${cpus().length} CPUs, load avg ${loadavg()[0].toFixed(2)}`,
  );
  console.log(
    `job ${job.id} ${final.job.state} → ${final.job.resultVersion}: claimed → served in ${wall.toFixed(1)} s\n`,
  );
  console.log("  stage        seconds   share");
  for (const [s, v] of [...stages, ["other", other] as const])
    console.log(`  ${s.padEnd(11)} ${v.toFixed(2).padStart(8)}  ${((100 * v) / wall).toFixed(1).padStart(5)}%`);
  const m = final.job.metrics ?? {};
  console.log(
    `\n  gates: ASR ${m.asrBefore} → ${m.asrAfter}, utility ${m.utilityBefore} → ${m.utilityAfter}, probe ${m.probeBefore} → ${m.probeAfter}`,
  );
} finally {
  await worker.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
