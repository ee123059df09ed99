/**
 * Worker entry for the dashboard browser test: the admin API and dashboard mounted as in
 * production (the real model store: rollback, and the store's current version while no
 * model is loaded), and POST /test/respond, which runs a simulated response through the
 * real guard (D1 writes in waitUntil).
 */
import { Hono } from "hono";
import { adminApp } from "../../worker/admin/index.js";
import { dashboardApp } from "../../worker/dashboard/index.js";
import type { Env } from "../../worker/env.js";
import { createResponseGuard } from "../../worker/guard/index.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";

const tokenizer = new ByteTokenizer();

const app = new Hono<{ Bindings: Env }>();
app.get("/health", (c) => c.json({ ok: true }));
app.route("/admin/api", adminApp);
app.route("/dashboard", dashboardApp);
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
