/** Running wrangler locally the same way everywhere (npm start, the benches, the tests): offline, quiet, no telemetry. */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");

/** The project's wrangler binary. */
export const WRANGLER_BIN = join(ROOT, "node_modules/.bin/wrangler");

/** wrangler's environment: offline, quiet, no telemetry. */
export const WRANGLER_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  CI: "true",
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
};

/** Applies migrations/ to the local D1 kept under `persistTo` (wrangler d1 migrations apply --local); throws with wrangler's output on failure. */
export function applyLocalMigrations(persistTo: string): void {
  const run = spawnSync(WRANGLER_BIN, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo], {
    cwd: ROOT,
    encoding: "utf8",
    env: WRANGLER_ENV,
  });
  if (run.status !== 0) throw new Error(`wrangler d1 migrations apply failed:\n${run.stdout}\n${run.stderr}`);
}
