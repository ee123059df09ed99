import { Hono } from "hono";
import { database } from "../../db/index.js";
import { isSpanKey, SPAN_WORDS_RANGE } from "../../../shared/guard/index.js";
import { calibrationSummary, putCalibration } from "../../db/calibration.js";
import { listVersions, mirrorManifestVersions } from "../../db/versions.js";
import type { AdminDeps, AdminEnv } from "../deps.js";
import { AdminError } from "../errors.js";
import { CALIBRATION_BODY_LIMIT, field, jsonBody, queryInt } from "../input.js";

/**
 * GET /versions, POST /versions/:version/rollback,
 * PUT /versions/:version/calibration, GET /versions/:version/calibration.
 */
export function versionRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  app.get("/", async (c) => {
    const versions = await listVersions(database(c.env.DB), queryInt(c, "limit", 100, 1, 1000));
    return c.json({ versions, serving: deps.servingStatus(c.env) });
  });

  app.post("/:version/rollback", async (c) => {
    const body = await jsonBody(c);
    const version = c.req.param("version");
    const note = field.stringOpt(body, "note", 500) ?? "rollback from the admin API";
    const result = await deps.rollback(c.env, version, note);
    await mirrorManifestVersions(database(c.env.DB), result.manifest.versions);
    return c.json({
      current: result.manifest.current,
      versions: result.manifest.versions.map((v) => v.version),
      serving: result.status ?? null,
    });
  });

  app.put("/:version/calibration", async (c) => {
    const body = await jsonBody(c, CALIBRATION_BODY_LIMIT);
    const prompts = field.int(body, "prompts", 1, 10_000_000);
    const prefixes = field.numbers(body, "prefixes", { min: 1, integer: true, maxKeys: 50_000 });
    if (!prefixes)
      throw AdminError.invalid(
        "prefixes must map each normalised prefix to the number of calibration prompts that produced it",
      );
    const total = Object.values(prefixes).reduce((a, b) => a + b, 0);
    if (total > prompts) throw AdminError.invalid(`prefix counts add up to ${total}, more than prompts (${prompts})`);
    const spans = spanCounts(body, prompts);
    const stored = await putCalibration(database(c.env.DB), {
      modelVersion: c.req.param("version"),
      prompts,
      prefixTokens: field.int(body, "prefixTokens", 1, 256),
      prefixes,
      spans,
      source: field.stringOpt(body, "source", 500) ?? null,
      now: deps.now(),
    });
    deps.runtime.invalidate();
    return c.json({ calibration: { modelVersion: c.req.param("version"), ...stored } });
  });

  app.get("/:version/calibration", async (c) => {
    const summary = await calibrationSummary(
      database(c.env.DB),
      c.req.param("version"),
      queryInt(c, "top", 20, 1, 1000),
    );
    if (!summary) throw AdminError.notFound(`no calibration for version ${c.req.param("version")}`);
    return c.json({ calibration: summary });
  });

  return app;
}

/** Most span keys one calibration may carry. */
const MAX_SPAN_KEYS = 200_000;

/**
 * The upload's span counts (`spanWords` and `spans` together, both optional for an older
 * upload); 400 naming the field when one comes without the other, a count exceeds
 * `prompts`, or a key is not a normalised span of `spanWords` words.
 */
function spanCounts(
  body: Record<string, unknown>,
  prompts: number,
): { spanWords: number; counts: Record<string, number> } | null {
  const spanWords = field.intOpt(body, "spanWords", SPAN_WORDS_RANGE.min, SPAN_WORDS_RANGE.max);
  const counts = field.numbers(body, "spans", { min: 1, integer: true, maxKeys: MAX_SPAN_KEYS });
  if (spanWords === undefined && counts === undefined) return null;
  if (spanWords === undefined || counts === undefined)
    throw AdminError.invalid("spans and spanWords come together: span key → calibration prompts, and words per key");
  for (const [key, n] of Object.entries(counts)) {
    if (n > prompts) throw AdminError.invalid(`spans.${key} is ${n}, more than prompts (${prompts})`);
    if (!isSpanKey(key, spanWords))
      throw AdminError.invalid(`spans key ${JSON.stringify(key)} is not a normalised span of ${spanWords} words`);
  }
  return { spanWords, counts };
}
