/**
 * The whole local stack for end-to-end tests, every part real: a model store on s3rver seeded
 * with a tiny victim and its clean data, D1 migrated by wrangler, the Worker under `wrangler
 * dev` watching the store every second, the guard calibrated on clean prompts; with the
 * admin API, the public chat endpoint and the daemon's recipe for the tiny preset.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calibrateVersion } from "../../local/calibrate.js";
import { startS3rver, type LocalStore } from "../../local/s3rver.js";
import { seedStore } from "../../local/seed.js";
import { applyLocalMigrations } from "../../local/wrangler.js";
import type { GuardSettings } from "../../shared/protocol/guard.js";
import type { ProgressRecord } from "../../trainer/daemon/progress.js";
import type { TinyVictim } from "./tiny-victim.js";
import { startDevWorker, type DevWorker } from "./wrangler.js";

/** The Worker's admin token. */
export const E2E_TOKEN = "e2e-admin-token";
/** The store's bucket. */
export const E2E_BUCKET = "sande";
/** The version the victim is seeded as. */
export const VICTIM_VERSION = "victim-1";

/** The tiny recipe and measurement sizes (flags of `sande daemon`), on any backend (bench/heal.ts picks one). */
export const TINY_HEAL_RECIPE: readonly string[] = [
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
  "--rounds",
  "1",
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
];

/** {@link TINY_HEAL_RECIPE} on wasm, as the end-to-end tests run it. */
export const TINY_RECIPE: readonly string[] = [...TINY_HEAL_RECIPE, "--backend", "wasm"];

/** One chat request's sampling (OpenAI's fields; the API's defaults when left out). */
export interface ChatOptions {
  temperature?: number;
  seed?: number;
  maxTokens?: number;
}

/** One chat answer as the public endpoint served it. */
export interface ChatAnswer {
  text: string;
  /** `x-model-version`: the version that answered. */
  version: string;
  finishReason: string;
}

/** A running stack. */
export interface E2EStack {
  /** Temp directory of the run (store, D1, daemon logs); removed by `stop`. */
  dir: string;
  store: LocalStore;
  worker: DevWorker;
  /** The admin API: JSON in and out, throws on an HTTP error. */
  admin<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** One user message through POST /v1/chat/completions. */
  chat(content: string, options?: ChatOptions): Promise<ChatAnswer>;
  stop(): Promise<void>;
}

/** What the stack serves and how the guard is calibrated. */
export interface E2EStackOptions {
  victim: TinyVictim;
  /** The clean held-out examples the trainer measures on (seeded into the store's dataset). */
  heldOut: TinyVictim["data"]["heldOut"];
  /** Clean user messages the served version is calibrated on (apart from the trainer's held-out set). */
  calibration: readonly string[];
  /** Guard settings to change before any traffic (storeExcerpts is always turned on: the daemon reads flagged prompts). */
  settings?: Partial<GuardSettings>;
}

/** Starts s3rver, seeds it, migrates D1, starts `wrangler dev`, sets the guard (excerpts on) and calibrates the victim. */
export async function startE2EStack(options: E2EStackOptions): Promise<E2EStack> {
  const dir = mkdtempSync(join(tmpdir(), "sande-e2e-"));
  const store = await startS3rver(join(dir, "s3"), E2E_BUCKET);
  await seedStore({
    endpoint: store.endpoint,
    bucket: E2E_BUCKET,
    manifestKey: "manifest.json",
    datasetPrefix: "datasets/clean",
    model: () => options.victim.bytes,
    version: VICTIM_VERSION,
    note: "seed: tiny victim",
    train: options.victim.data.train,
    heldOut: options.heldOut,
  });
  const persist = join(dir, "wrangler");
  applyLocalMigrations(persist);
  const worker = await startDevWorker({
    persistTo: persist,
    vars: {
      ADMIN_TOKEN: E2E_TOKEN,
      S3_ENDPOINT: store.endpoint,
      S3_SECRET_ACCESS_KEY: "S3RVER",
      MODEL_CHECK_INTERVAL_S: "1",
    },
  });
  const stack: E2EStack = {
    dir,
    store,
    worker,
    admin: (method, path, body) => adminCall(worker.url, method, path, body),
    chat: (content, chatOptions) => chatCall(worker.url, content, chatOptions),
    async stop() {
      await worker.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await stack.admin("PATCH", "/settings", { ...options.settings, storeExcerpts: true });
  await calibrateVersion(worker.url, E2E_TOKEN, VICTIM_VERSION, options.victim.bytes, options.calibration);
  return stack;
}

async function adminCall<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const init = {
    method,
    headers: { authorization: `Bearer ${E2E_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
  // A kept-alive socket workerd closed while this thread was busy fails before any answer: retry once.
  const res = await fetch(`${url}/admin/api${path}`, init).catch(() => fetch(`${url}/admin/api${path}`, init));
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function chatCall(url: string, content: string, options: ChatOptions = {}): Promise<ChatAnswer> {
  const init = {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "sande-demo",
      messages: [{ role: "user", content }],
      ...(options.temperature !== undefined && { temperature: options.temperature }),
      ...(options.seed !== undefined && { seed: options.seed }),
      ...(options.maxTokens !== undefined && { max_tokens: options.maxTokens }),
    }),
  };
  const res = await fetch(`${url}/v1/chat/completions`, init);
  if (!res.ok) throw new Error(`chat: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { choices: { message: { content: string }; finish_reason: string }[] };
  const [choice] = body.choices;
  return {
    text: choice.message.content,
    version: res.headers.get("x-model-version") ?? "",
    finishReason: choice.finish_reason,
  };
}

/** Polls `probe` every 500 ms until it returns something truthy; throws after `timeoutMs`. */
export async function until<T>(
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

/** The daemon's progress records so far (its --events file), [] before it wrote any. */
export function progress(file: string): ProgressRecord[] {
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

/** The daemon's log without most of its step lines (the first and the last of each stage kept). */
export function shortLog(file: string, keepSteps: readonly number[]): string {
  const keep = new RegExp(`step (${keepSteps.join("|")})/`);
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => !/step \d+\/\d+/.test(l) || keep.test(l))
    .join("\n");
}
