/** `GET /v1/health`: the model this isolate serves and how its store checks went. */
import type { Handler } from "hono";
import { waitUntilOf, type AppEnv } from "./context.js";
import type { Env } from "./env.js";
import type { ServedModels } from "./model/index.js";

/**
 * Handler factory. Loads the model if this isolate has none yet (and starts a
 * due check), then reports `status()` of the model store: 200 when serving (status
 * "ok" or "degraded": the last check failed and the last good version serves),
 * 503 when nothing can be served.
 */
export function health(models: (env: Env) => ServedModels): Handler<AppEnv> {
  return async function healthHandler(c) {
    const store = models(c.env);
    await store.acquire(waitUntilOf(c)).catch(() => undefined); // failures are in the status
    const status = store.status();
    return c.json({ model: c.env.MODEL_NAME, ...status }, status.status === "unavailable" ? 503 : 200);
  };
}
