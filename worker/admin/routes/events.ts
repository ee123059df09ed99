import { Hono } from "hono";
import { database } from "../../db/index.js";
import { listEvents } from "../../db/events.js";
import type { AdminEnv } from "../deps.js";
import { queryInt } from "../input.js";

/** GET /events?prefix=&version=&before=&limit=: flagged events, newest first, paged by id. */
export function eventRoutes(): Hono<AdminEnv> {
  return new Hono<AdminEnv>().get("/", async (c) => {
    const limit = queryInt(c, "limit", 100, 1, 1000);
    const before =
      c.req.query("before") !== undefined ? queryInt(c, "before", 1, 1, Number.MAX_SAFE_INTEGER) : undefined;
    const events = await listEvents(database(c.env.DB), {
      prefix: c.req.query("prefix"),
      modelVersion: c.req.query("version"),
      before,
      limit,
    });
    return c.json({ events, next: events.length === limit ? events[events.length - 1].id : null });
  });
}
