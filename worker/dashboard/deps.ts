import type { AdminDeps } from "../admin/deps.js";
import type { Env } from "../env.js";
import { readManifest } from "../model/index.js";
import type { DashboardSession } from "./session.js";

/** Hono environment of the dashboard: the Worker's bindings, and the signed-in session once checked. */
export interface DashboardEnv {
  Bindings: Env;
  Variables: { session: DashboardSession };
}

/** What the dashboard uses besides D1: the admin API's dependencies, plus a read of the store's manifest. */
export interface DashboardDeps extends AdminDeps {
  /** The version the model store's manifest names as current (throws StoreError when the store cannot say). */
  storeCurrent: (env: Env) => Promise<string>;
}

/** The store's current version, read from the manifest in the bucket (shared/store through worker/model). */
export async function readStoreCurrent(env: Env): Promise<string> {
  return (await readManifest(env)).manifest.current;
}
