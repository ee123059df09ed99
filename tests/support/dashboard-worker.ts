/**
 * Worker entry for the dashboard browser test: the admin API and dashboard mounted as
 * in production, a fake rollback (no S3), and POST /test/respond, which runs a
 * simulated response through the real guard (D1 writes in waitUntil).
 */
import { Hono } from "hono";
import { createAdminApp } from "../../worker/admin/index.js";
import type { ModelManifest } from "../../shared/protocol/manifest.js";
import { createDashboardApp } from "../../worker/dashboard/index.js";
import type { Env } from "../../worker/env.js";
import { createResponseGuard } from "../../worker/guard/index.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";

const tokenizer = new ByteTokenizer();
const rollback = async (_env: Env, version: string) => ({
  manifest: {
    format: "sande-manifest/1",
    current: version,
    versions: [],
    updatedAt: new Date().toISOString(),
  } as ModelManifest,
});

const app = new Hono<{ Bindings: Env }>();
app.get("/health", (c) => c.json({ ok: true }));
app.route("/admin/api", createAdminApp({ rollback }));
app.route("/dashboard", createDashboardApp({ rollback, servingStatus: () => ({ version: "v2" }) }));
app.post("/test/respond", async (c) => {
  const { prompt, text, modelVersion } = await c.req.json<{ prompt: string; text: string; modelVersion: string }>();
  const session = await createResponseGuard(c.env).begin({
    requestId: crypto.randomUUID(),
    promptText: prompt,
    modelVersion,
    tokenizer,
  });
  const tokens = tokenizer.encode(text).slice(0, session.prefixTokens);
  const decision = session.inspect({
    tokens,
    logprobs: tokens.map(() => -0.5),
    text: tokenizer.decode(tokens),
    finished: tokens.length < session.prefixTokens,
  });
  const writes: Promise<unknown>[] = [];
  session.finish((p) => writes.push(p));
  await Promise.all(writes); // the test reads the dashboard right after
  return c.json(decision);
});

export default app;
