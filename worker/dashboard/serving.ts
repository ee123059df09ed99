import type { Env } from "../env.js";
import type { DashboardDeps } from "./deps.js";

/** Which model version is served, and how the dashboard knows. */
export type ServingInfo =
  | { version: string; source: "isolate" }
  | { version: string; source: "store" }
  | { version: null; source: "unknown"; reason: string };

function loadedVersion(status: unknown): string | null {
  if (status && typeof status === "object" && "version" in status && typeof status.version === "string")
    return status.version;
  return null;
}

/**
 * The version this isolate serves; when it has not loaded a model yet, the version the
 * model store's manifest names as current (what it will load); failing that, why not.
 */
export async function servingInfo(deps: DashboardDeps, env: Env): Promise<ServingInfo> {
  const loaded = loadedVersion(deps.servingStatus(env));
  if (loaded) return { version: loaded, source: "isolate" };
  try {
    return { version: await deps.storeCurrent(env), source: "store" };
  } catch (e) {
    return { version: null, source: "unknown", reason: e instanceof Error ? e.message : String(e) };
  }
}
