import { Hono, type Context } from "hono";
import { normalisePrefix } from "../../../shared/guard/index.js";
import type { Containment, PrefixState } from "../../../shared/protocol/guard.js";
import { ByteTokenizer } from "../../../shared/tokenizer/index.js";
import { database } from "../../db/index.js";
import { getPrefix, listPrefixes, updatePrefix, upsertPrefix } from "../../db/prefixes.js";
import type { AdminDeps, AdminEnv } from "../deps.js";
import { AdminError } from "../errors.js";
import { field, idParam, jsonBody, queryInt, queryOneOf } from "../input.js";

export const PREFIX_STATES: readonly PrefixState[] = ["new", "confirmed", "ignored", "remediating", "remediated"];
export const CONTAINMENTS: readonly Containment[] = ["observe", "redact", "regenerate", "block"];

const tokenizer = new ByteTokenizer();

/**
 * GET /prefixes?state=&limit=, GET /prefixes/:id, POST /prefixes (add by hand),
 * POST /prefixes/:id/confirm, POST /prefixes/:id/ignore, PUT /prefixes/:id/containment.
 */
export function prefixRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  app.get("/", async (c) => {
    const prefixes = await listPrefixes(database(c.env.DB), {
      state: queryOneOf(c, "state", PREFIX_STATES),
      limit: queryInt(c, "limit", 100, 1, 1000),
    });
    return c.json({ prefixes });
  });

  app.get("/:id", async (c) => {
    const prefix = await getPrefix(database(c.env.DB), idParam(c));
    if (!prefix) throw AdminError.notFound(`no prefix ${c.req.param("id")}`);
    return c.json({ prefix });
  });

  app.post("/", async (c) => {
    const body = await jsonBody(c);
    const text = field.string(body, "prefix", 1000);
    const prefix = normalisePrefix(text);
    if (!prefix) throw AdminError.invalid("prefix is empty after normalisation");
    const created = await upsertPrefix(database(c.env.DB), {
      prefix,
      sample: text,
      firstTokens: tokenizer.encode(text).slice(0, 8),
      state: field.oneOfOpt(body, "state", ["new", "confirmed", "ignored"] as const) ?? "confirmed",
      containment: body.containment === null ? null : (field.oneOfOpt(body, "containment", CONTAINMENTS) ?? null),
      now: deps.now(),
    });
    deps.runtime.invalidate();
    return c.json({ prefix: created }, 201);
  });

  const setState = (state: PrefixState) =>
    async function setPrefixState(c: Context<AdminEnv>) {
      const prefix = await updatePrefix(database(c.env.DB), idParam(c), { state, now: deps.now() });
      if (!prefix) throw AdminError.notFound(`no prefix ${c.req.param("id")}`);
      deps.runtime.invalidate();
      return c.json({ prefix });
    };
  app.post("/:id/confirm", setState("confirmed"));
  app.post("/:id/ignore", setState("ignored"));

  app.put("/:id/containment", async (c) => {
    const body = await jsonBody(c);
    const containment = body.containment === null ? null : field.oneOf(body, "containment", CONTAINMENTS);
    const prefix = await updatePrefix(database(c.env.DB), idParam(c), { containment, now: deps.now() });
    if (!prefix) throw AdminError.notFound(`no prefix ${c.req.param("id")}`);
    deps.runtime.invalidate();
    return c.json({ prefix });
  });

  return app;
}
