import type { Env } from "../env.js";
import type { DashboardDeps } from "./deps.js";

/** How long a page waits for the store's manifest before it says the version is unknown. */
const STORE_WAIT_MS = 3_000;

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
 * model store's manifest names as current (what it will load); failing that (or when the
 * store takes longer than 3 s: the page does not wait on it), why not.
 */
export async function servingInfo(deps: DashboardDeps, env: Env): Promise<ServingInfo> {
  const loaded = loadedVersion(deps.servingStatus(env));
  if (loaded) return { version: loaded, source: "isolate" };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(
      () => fail(new Error(`the model store did not answer within ${STORE_WAIT_MS / 1000} s`)),
      STORE_WAIT_MS,
    );
  });
  try {
    return { version: await Promise.race([deps.storeCurrent(env), late]), source: "store" };
  } catch (e) {
    return { version: null, source: "unknown", reason: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
  }
}
