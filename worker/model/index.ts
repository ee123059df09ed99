/**
 * The model store as the rest of the Worker uses it: one {@link ModelStore} per
 * isolate and configuration, and the operations the admin API calls.
 */
import { StoreError, type StoredManifest } from "../../shared/store/index.js";
import type { Env } from "../env.js";
import { bucketFromEnv, pointManifestAt } from "./manifest.js";
import { ModelStore, type ModelStatus } from "./store.js";

export { StoreError, type StoreErrorKind } from "../../shared/store/index.js";
export type { LoadedModel } from "./load.js";
export { readManifest } from "./manifest.js";
export { ModelStore, type CheckReport, type ModelStatus, type ServedModels } from "./store.js";

const stores = new Map<string, ModelStore>();

/**
 * This isolate's store for `env`'s bucket and manifest (created on first use,
 * settings validated then). Throws StoreError "config" on bad settings.
 */
export function modelStore(env: Env): ModelStore {
  const id = [env.S3_ENDPOINT, env.S3_BUCKET, env.MANIFEST_KEY, env.MODEL_CHECK_INTERVAL_S].join("\n");
  let store = stores.get(id);
  if (!store) {
    store = new ModelStore({
      bucket: bucketFromEnv(env),
      manifestKey: env.MANIFEST_KEY,
      checkIntervalMs: checkIntervalMs(env.MODEL_CHECK_INTERVAL_S),
    });
    stores.set(id, store);
  }
  return store;
}

/** MODEL_CHECK_INTERVAL_S as ms; throws StoreError "config" unless it is a number >= 0. */
export function checkIntervalMs(value: string | undefined): number {
  const s = Number(value ?? "10");
  if (value === "" || !Number.isFinite(s) || s < 0)
    throw new StoreError(
      "config",
      `MODEL_CHECK_INTERVAL_S must be a number of seconds >= 0, got ${JSON.stringify(value)}`,
    );
  return s * 1000;
}

/** Forces this isolate to re-read the manifest now (no conditional GET) and returns its status. Other isolates follow at their interval. */
export async function checkModelNow(env: Env): Promise<ModelStatus> {
  const store = modelStore(env);
  await store.check({ force: true });
  return store.status();
}

/** This isolate's model status (no I/O). */
export function modelStatus(env: Env): ModelStatus {
  return modelStore(env).status();
}

/**
 * One-call rollback: points the manifest's `current` at `version` (an earlier
 * published one; conditional write), records `note`, and reloads this isolate.
 * Throws StoreError "not_found" (no such version), "conflict" (the manifest
 * changed meanwhile: read again and retry), "unavailable".
 */
export async function rollbackTo(
  env: Env,
  version: string,
  note: string,
): Promise<StoredManifest & { status: ModelStatus }> {
  const written = await pointManifestAt(env, version, note);
  return { ...written, status: await checkModelNow(env) };
}
