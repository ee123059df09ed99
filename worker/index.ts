import { Hono } from "hono";

/** The edge Worker. Serving routes arrive with the Worker issue; for now it reports health. */
const app = new Hono();

app.get("/health", (c) => c.json({ ok: true }));

export default app;
