import { Hono } from "hono";
import { database } from "../../db/index.js";
import { deletePhrase, listPhrases } from "../../db/phrases.js";
import type { AdminDeps, AdminEnv } from "../deps.js";
import { AdminError } from "../errors.js";
import { idParam, jsonBody } from "../input.js";
import { changePhrase, createPhrase } from "../phrase-input.js";

/** GET /phrases?list=, POST /phrases, PATCH /phrases/:id, DELETE /phrases/:id. */
export function phraseRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  app.get("/", async (c) => c.json({ phrases: await listPhrases(database(c.env.DB), c.req.query("list")) }));

  app.post("/", async (c) => {
    const phrase = await createPhrase(database(c.env.DB), await jsonBody(c), deps.now());
    deps.runtime.invalidate();
    return c.json({ phrase }, 201);
  });

  app.patch("/:id", async (c) => {
    const phrase = await changePhrase(database(c.env.DB), idParam(c), await jsonBody(c));
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
