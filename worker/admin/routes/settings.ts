import { Hono } from "hono";
import { database } from "../../db/index.js";
import { patchSettings, readSettings } from "../../db/settings.js";
import type { AdminDeps, AdminEnv } from "../deps.js";
import { jsonBody } from "../input.js";

/** GET /settings, PATCH /settings (a partial GuardSettings; every field validated). */
export function settingsRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  app.get("/", async (c) => c.json({ settings: await readSettings(database(c.env.DB)) }));
  app.patch("/", async (c) => {
    const settings = await patchSettings(database(c.env.DB), await jsonBody(c), deps.now());
    deps.runtime.invalidate();
    return c.json({ settings });
  });
  return app;
}
