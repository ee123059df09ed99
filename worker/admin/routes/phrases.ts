import { Hono } from "hono";
import { database } from "../../db/index.js";
import { addPhrase, deletePhrase, listPhrases, updatePhrase } from "../../db/phrases.js";
import type { AdminDeps, AdminEnv } from "../deps.js";
import { AdminError } from "../errors.js";
import { field, idParam, jsonBody } from "../input.js";

/** GET /phrases?list=, POST /phrases, PATCH /phrases/:id, DELETE /phrases/:id. */
export function phraseRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  app.get("/", async (c) => c.json({ phrases: await listPhrases(database(c.env.DB), c.req.query("list")) }));

  app.post("/", async (c) => {
    const body = await jsonBody(c);
    const phrase = await addPhrase(database(c.env.DB), {
      list: field.stringOpt(body, "list", 100) ?? "default",
      kind: field.oneOfOpt(body, "kind", ["phrase", "regex"] as const) ?? "phrase",
      pattern: field.string(body, "pattern", 500),
      score: field.numberOpt(body, "score", 0, 1) ?? 1,
      enabled: field.boolOpt(body, "enabled") ?? true,
      note: field.stringOpt(body, "note", 1000) ?? null,
      now: deps.now(),
    });
    if (!phrase) throw AdminError.conflict("that list already has this entry");
    deps.runtime.invalidate();
    return c.json({ phrase }, 201);
  });

  app.patch("/:id", async (c) => {
    const body = await jsonBody(c);
    const change: { score?: number; enabled?: boolean; note?: string | null } = {};
    const score = field.numberOpt(body, "score", 0, 1);
    const enabled = field.boolOpt(body, "enabled");
    if (score !== undefined) change.score = score;
    if (enabled !== undefined) change.enabled = enabled;
    if (body.note !== undefined) change.note = body.note === null ? null : field.string(body, "note", 1000);
    const phrase = await updatePhrase(database(c.env.DB), idParam(c), change);
    if (!phrase) throw AdminError.notFound(`no phrase ${c.req.param("id")}`);
    deps.runtime.invalidate();
    return c.json({ phrase });
  });

  app.delete("/:id", async (c) => {
    if (!(await deletePhrase(database(c.env.DB), idParam(c))))
      throw AdminError.notFound(`no phrase ${c.req.param("id")}`);
    deps.runtime.invalidate();
    return c.body(null, 204);
  });

  return app;
}
