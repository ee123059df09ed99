/**
 * Runs the Worker under a real `wrangler dev` (workerd) on a random loopback
 * port, for tests and the serving bench. Started in its own process group
 * (setsid) and stopped by killing the group, or workerd lingers.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { WRANGLER_BIN, WRANGLER_ENV } from "../../local/wrangler.js";

export { WRANGLER_ENV } from "../../local/wrangler.js";

/** A running `wrangler dev`. */
export interface DevWorker {
  /** e.g. http://127.0.0.1:43123 */
  url: string;
  /** Everything wrangler printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** How to start it. */
export interface DevWorkerOptions {
  /** Entry script (default: wrangler.toml's main). */
  script?: string;
  /** `--var NAME:VALUE` overrides. */
  vars?: Record<string, string>;
  /** Local state (D1) directory; default a fresh temp dir, removed on stop. */
  persistTo?: string;
  /** ms to wait for GET /health (default 120 000). */
  readyTimeoutMs?: number;
}

const ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER = WRANGLER_BIN;
const ENV = WRANGLER_ENV;

/** A free TCP port on 127.0.0.1 (free now; the caller binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

/** Starts `wrangler dev` and waits until it answers GET /health. */
export async function startDevWorker(options: DevWorkerOptions = {}): Promise<DevWorker> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const ownState = options.persistTo === undefined;
  const persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), "sande-wrangler-"));
  // Bundle once into a private dir and serve that (--no-bundle): wrangler dev would otherwise
  // rebuild and restart mid-request whenever anyone edits a source file in this checkout.
  const bundleDir = mkdtempSync(join(tmpdir(), "sande-bundle-"));
  const built = spawnSync(
    WRANGLER,
    ["deploy", "--dry-run", "--outdir", bundleDir, ...(options.script ? [options.script] : [])],
    { cwd: ROOT, encoding: "utf8", env: ENV },
  );
  if (built.status !== 0) {
    rmSync(bundleDir, { recursive: true, force: true });
    throw new Error(`bundling the Worker failed:\n${built.stdout}\n${built.stderr}`);
  }
  const entry = readdirSync(bundleDir).find((f) => f.endsWith(".js"));
  if (!entry) throw new Error(`bundling the Worker wrote no .js file:\n${built.stdout}`);
  const args = [
    "dev",
    join(bundleDir, entry),
    "--no-bundle",
    "--config",
    join(ROOT, "wrangler.toml"),
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persistTo,
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
  ];
  for (const [k, v] of Object.entries(options.vars ?? {})) args.push("--var", `${k}:${v}`);
  const child = spawn(WRANGLER, args, {
    cwd: ROOT,
    detached: true, // setsid: its own process group, killed as a whole
    stdio: ["ignore", "pipe", "pipe"],
    env: ENV,
  });
  let log = "";
  child.stdout.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr.on("data", (d: Buffer) => (log += d.toString()));
  let exited = false;
  const exit = new Promise<void>((ok) => child.on("exit", () => ((exited = true), ok())));

  const stop = async (): Promise<void> => {
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const killed = await Promise.race([
        exit.then(() => true),
        new Promise<boolean>((ok) => setTimeout(() => ok(false), 5_000)),
      ]);
      if (!killed) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
        await exit;
      }
    }
    if (ownState) rmSync(persistTo, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`wrangler dev exited before it was ready:\n${log}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev was not ready within ${options.readyTimeoutMs ?? 120_000} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, output: () => log, stop };
}
