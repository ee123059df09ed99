/** npm start's local state: everything under one git-ignored folder, and the file `npm run demo` reads. */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** What a running `npm start` tells other tools (written to `<dir>/state.json`). */
export interface LocalState {
  workerUrl: string;
  chatUrl: string;
  dashboardUrl: string;
  adminToken: string;
  s3Endpoint: string;
  bucket: string;
  /** The trainer's progress records (JSON lines). */
  trainerEvents: string;
  /** The version seeded on first run. */
  seedVersion: string;
  startedAt: string;
  pid: number;
}

/** The folder (SANDE_LOCAL_DIR, default .sande-local in the repository). */
export function localDir(): string {
  return resolve(process.env.SANDE_LOCAL_DIR ?? join(import.meta.dirname, "../.sande-local"));
}

/** The admin token, made once and kept (dashboard sessions survive restarts). */
export function adminToken(dir: string): string {
  const file = join(dir, "admin-token");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dir, { recursive: true });
  const token = randomBytes(24).toString("base64url");
  writeFileSync(file, token + "\n", { mode: 0o600 });
  return token;
}

/** Writes state.json. */
export function writeState(dir: string, state: LocalState): void {
  writeFileSync(join(dir, "state.json"), JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
}

/** Reads state.json of a running `npm start`, or explains how to get one. */
export function readState(dir = localDir()): LocalState {
  const file = join(dir, "state.json");
  if (!existsSync(file)) throw new Error(`no ${file}: start the stack first (npm start)`);
  return JSON.parse(readFileSync(file, "utf8")) as LocalState;
}
