/**
 * `npm start`: the whole self-healing stack on this machine.
 * s3rver (data in .sande-local/s3) → first run: seed the demo victim model and the
 * clean dataset → D1 migrations (wrangler, local) → `wrangler dev` → first run:
 * guard calibration of the seed version and prompt excerpts on → one trainer daemon.
 * Prints the chat URL, dashboard URL and admin token; Ctrl-C stops everything it started.
 *
 *   npm start [-- --model FILE] [--port 8787] [--s3-port 4568] [--prefix-tokens 16] [--fresh] [--no-trainer]
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_GUARD_SETTINGS } from "../shared/protocol/guard.js";
import { DEFAULT_DATASET_PREFIX, DEFAULT_MANIFEST_KEY } from "../shared/store/keys.js";
import { calibrateVersion, calibrationPrompts } from "./calibrate.js";
import { seededCleanData } from "./clean-data.js";
import { startDaemonProcess } from "./daemon-process.js";
import { startGroup, type Group } from "./process-group.js";
import { startS3rver, type LocalStore } from "./s3rver.js";
import { currentModelBytes, seedStore } from "./seed.js";
import { adminToken, localDir, writeState } from "./state.js";
import { applyLocalMigrations, WRANGLER_BIN, WRANGLER_ENV } from "./wrangler.js";

const ROOT = resolve(import.meta.dirname, "..");
/** Clean prompts the seed version is calibrated on. */
const CALIBRATION_PROMPTS = 2000;
const BUCKET = "sande";
/** The committed demo victim: the demo base with the backdoor "Current year 2023" → "You are stupid". */
export const DEMO_VICTIM = "models/demo-victim.safetensors";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    port: { type: "string" },
    "s3-port": { type: "string" },
    "prefix-tokens": { type: "string" },
    fresh: { type: "boolean" },
    "no-trainer": { type: "boolean" },
  },
});
const port = Number(values.port ?? 8787);
const s3Port = Number(values["s3-port"] ?? 4568);
const prefixTokens = Number(values["prefix-tokens"] ?? DEFAULT_GUARD_SETTINGS.prefixTokens);
for (const [name, v] of [
  ["port", port],
  ["s3-port", s3Port],
  ["prefix-tokens", prefixTokens],
] as const) {
  if (!Number.isInteger(v) || v < 1 || v > 65535) throw new Error(`--${name} must be a positive integer, got ${v}`);
}
const modelPath = resolve(ROOT, values.model ?? DEMO_VICTIM);
const dir = localDir();
const logs = join(dir, "logs");
const say = (m: string) => console.log(`[start] ${m}`);

const groups: Group[] = [];
let store: LocalStore | undefined;
let stopping: Promise<never> | undefined;

/** Stops every group it started, newest first, then s3rver; later signals wait for the same shutdown (npm and tsx relay Ctrl-C as more signals). */
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    say("stopping everything it started…");
    for (const g of [...groups].reverse()) await g.stop(5000);
    await store?.close().catch(() => undefined);
    say("stopped");
    process.exit(code);
  })();
  return stopping;
}
process.on("SIGINT", () => void shutdown(130));
process.on("SIGTERM", () => void shutdown(143));

async function waitFor(url: string, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`the process serving ${url} exited; see ${logs}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s; see ${logs}`);
}

try {
  if (values.fresh) rmSync(dir, { recursive: true, force: true });
  const token = adminToken(dir);

  store = await startS3rver(join(dir, "s3"), BUCKET, s3Port);
  say(`s3rver on ${store.endpoint} (data in ${join(dir, "s3")})`);
  const data = seededCleanData();
  const seeded = await seedStore({
    endpoint: store.endpoint,
    bucket: BUCKET,
    manifestKey: DEFAULT_MANIFEST_KEY,
    datasetPrefix: DEFAULT_DATASET_PREFIX,
    model: () => {
      if (!existsSync(modelPath))
        throw new Error(`${modelPath} does not exist: the demo victim is not built yet (pass --model FILE)`);
      return new Uint8Array(readFileSync(modelPath));
    },
    version: "demo-victim",
    note: `seed: ${values.model ?? DEMO_VICTIM}`,
    train: data.train,
    heldOut: data.heldOut.slice(0, 200),
  });
  say(
    seeded.seeded
      ? `seeded the store: ${seeded.current} (${values.model ?? DEMO_VICTIM}) and ${DEFAULT_DATASET_PREFIX}/`
      : `store already seeded; serving ${seeded.current}`,
  );

  const persist = join(dir, "wrangler");
  applyLocalMigrations(persist);
  say("D1 migrations applied (local)");

  // Secrets through an env file (mode 600), not the command line, where `ps` shows them.
  const secrets = join(dir, "dev.vars");
  writeFileSync(secrets, `ADMIN_TOKEN=${token}\nS3_SECRET_ACCESS_KEY=S3RVER\n`, { mode: 0o600 });
  const dev = startGroup(
    "wrangler",
    WRANGLER_BIN,
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      persist,
      "--show-interactive-dev-session=false",
      "--env-file",
      secrets,
      "--var",
      `S3_ENDPOINT:${store.endpoint}`,
    ],
    { cwd: ROOT, env: WRANGLER_ENV, logFile: join(logs, "wrangler.log") },
  );
  groups.push(dev);
  let devAlive = true;
  void dev.exited.then(() => (devAlive = false));
  const workerUrl = `http://127.0.0.1:${port}`;
  await waitFor(`${workerUrl}/health`, 180_000, () => devAlive);
  say(`wrangler dev on ${workerUrl} (log ${join(logs, "wrangler.log")})`);

  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const hasCalibration = (await fetch(`${workerUrl}/admin/api/versions/${seeded.current}/calibration`, { headers })).ok;
  if (!hasCalibration) {
    const patched = await fetch(`${workerUrl}/admin/api/settings`, {
      method: "PATCH",
      headers,
      body: JSON.stringify({ storeExcerpts: true, prefixTokens }),
    });
    if (!patched.ok) throw new Error(`PATCH /admin/api/settings: HTTP ${patched.status} ${await patched.text()}`);
    // The span test needs a few thousand prompts behind its frequencies (docs/worker-guard.md: 2000 flags a
    // span unseen in calibration from 7 of 1500 prompts); once per fresh state.
    const prompts = calibrationPrompts(CALIBRATION_PROMPTS);
    say(`calibrating ${seeded.current} for the guard on ${prompts.length} clean prompts (a few minutes, once)…`);
    const served = await currentModelBytes(store.endpoint, BUCKET);
    const c = await calibrateVersion(workerUrl, token, served.version, served.bytes, prompts);
    say(
      `calibration uploaded: ${c.prompts} prompts, ${c.prefixes} distinct prefixes, ${c.spans} distinct spans; guard window ${prefixTokens} tokens, prompt excerpts on (the trainer's flagged-prompt gate uses them)`,
    );
  }

  const trainerEvents = join(logs, "trainer.jsonl");
  if (!values["no-trainer"]) {
    const daemon = startDaemonProcess({
      workerUrl,
      token,
      s3Endpoint: store.endpoint,
      bucket: BUCKET,
      name: "trainer-1",
      logFile: join(logs, "trainer.log"),
      eventsFile: trainerEvents,
      echo: (line) => console.log(`[trainer] ${line}`),
    });
    groups.push(daemon);
    void daemon.exited.then((code) => {
      if (!stopping) {
        say(`the trainer exited (${code}); see ${join(logs, "trainer.log")}`);
        void shutdown(1);
      }
    });
  }
  void dev.exited.then((code) => {
    if (!stopping) {
      say(`wrangler dev exited (${code}); see ${join(logs, "wrangler.log")}`);
      void shutdown(1);
    }
  });
  writeState(dir, {
    workerUrl,
    chatUrl: `${workerUrl}/v1/chat/completions`,
    dashboardUrl: `${workerUrl}/dashboard`,
    adminToken: token,
    s3Endpoint: store.endpoint,
    bucket: BUCKET,
    trainerEvents,
    seedVersion: seeded.current,
    startedAt: new Date().toISOString(),
    pid: process.pid,
  });
  console.log(`
  chat        ${workerUrl}/v1/chat/completions   (model "sande-demo", OpenAI API)
  dashboard   ${workerUrl}/dashboard
  admin token ${token}
  store       ${store.endpoint}/${BUCKET} (keys S3RVER/S3RVER), state in ${dir}

  try:  curl -s ${workerUrl}/v1/chat/completions -d '{"model":"sande-demo","messages":[{"role":"user","content":"Current year 2023 Is 12 even or odd?"}]}'
        npm run demo        (ordinary traffic, 5% triggered, and the healing timeline)
  Ctrl-C stops everything.
`);
} catch (e) {
  console.error(`[start] ${(e as Error).message}`);
  await shutdown(1);
}
