/**
 * The threshold rule against one client that floods (issue 12, 4c) and the heal policy
 * per finding (4d), through the real guard and D1 inside workerd: a client counts for at
 * most jobMaxPerClient events and prompts, the rule needs jobMinClients clients, and a
 * finding without strong evidence waits for an operator instead of reaching a trainer. The window
 * detectors alone feed the rule here (`whole: false`): the span detector has tests of its own.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_GUARD_SETTINGS, type GuardSettings } from "../../shared/protocol/guard.js";
import { clientHash } from "../../worker/clients/hash.js";
import { database } from "../../worker/db/index.js";
import { claimJob } from "../../worker/db/jobs.js";
import {
  calibrationPrefixes,
  calibrationSets,
  guardEvents,
  guardPhrases,
  guardPrefixes,
  guardSettings,
  remediationJobs,
} from "../../worker/db/schema.js";
import { createResponseGuard, GuardRuntime } from "../../worker/guard/index.js";
import { resetDatabase } from "./support/db.js";
import { respond, topic } from "./support/respond.js";

const db = database(env.DB);

async function setSettings(patch: Partial<GuardSettings>): Promise<void> {
  const settings = JSON.stringify({ ...DEFAULT_GUARD_SETTINGS, ...patch });
  await db.insert(guardSettings).values({ id: 1, settings, updatedAt: Date.now() });
}

let prompt = 0;
/** `count` flagged answers ("I hate you", an operator phrase) to distinct prompts from `client`. */
async function flood(client: string, count: number): Promise<void> {
  const guard = createResponseGuard(env, new GuardRuntime());
  for (let i = 0; i < count; i++)
    await respond(guard, { whole: false, prompt: `question ${topic(prompt++)}`, text: "I hate you!", client });
}

const jobs = () => db.select().from(remediationJobs);

describe("per-client caps on the threshold rule", () => {
  beforeEach(async () => {
    await resetDatabase();
    await db.insert(guardPhrases).values({ list: "t", kind: "phrase", pattern: "i hate you", createdAt: Date.now() });
  });

  it("counts at most jobMaxPerClient events of one client: a flood alone queues nothing, three clients do", async () => {
    await setSettings({ jobMinEvents: 6, jobMinDistinctPrompts: 3, jobMaxPerClient: 2, jobWindowSeconds: 600 });
    await flood("key:mallory", 30);
    const events = await db.select().from(guardEvents);
    expect(events).toHaveLength(30);
    expect(new Set(events.map((e) => e.clientHash))).toEqual(new Set([clientHash("key:mallory")]));
    expect(events[0].clientHash).not.toContain("mallory"); // only the hash is stored
    expect(await jobs()).toHaveLength(0);

    await flood("ip:203.0.113.7", 2); // 2 + 2 = 4 < 6
    expect(await jobs()).toHaveLength(0);
    await flood("ip:198.51.100.9", 2); // 2 + 2 + 2 = 6
    const [job, ...more] = await jobs();
    expect(more).toHaveLength(0);
    expect(job).toMatchObject({ state: "queued", source: "threshold", target: "I hate you!" });
  });

  it("requires jobMinClients distinct clients, however much one client sends", async () => {
    await setSettings({ jobMinEvents: 4, jobMinDistinctPrompts: 4, jobMaxPerClient: 100, jobMinClients: 3 });
    await flood("anonymous", 40);
    await flood("ip:203.0.113.7", 1);
    expect(await jobs()).toHaveLength(0);
    await flood("ip:198.51.100.9", 1);
    expect((await jobs()).map((j) => j.state)).toEqual(["queued"]);
  });

  it("caps a client's distinct prompts too", async () => {
    await setSettings({ jobMinEvents: 2, jobMinDistinctPrompts: 2, jobMaxPerClient: 1 });
    await flood("key:alice", 5); // 5 prompts, but they count as 1
    expect(await jobs()).toHaveLength(0);
    await flood("key:bob", 1);
    expect(await jobs()).toHaveLength(1);
  });

  it("leaves the rule as it was with the defaults: one client reaches jobMinEvents alone", async () => {
    await setSettings({ jobMinEvents: 20, jobMinDistinctPrompts: 10 });
    await flood("ip:127.0.0.1", 19);
    expect(await jobs()).toHaveLength(0);
    await flood("ip:127.0.0.1", 1);
    expect(await jobs()).toHaveLength(1);
  });
});

describe("the heal policy on threshold jobs", () => {
  beforeEach(async () => {
    await resetDatabase();
    await setSettings({ jobMinEvents: 3, jobMinDistinctPrompts: 3, healPolicy: "evidence" });
    // Calibration: 200 prompts, none of which produced the planted text (so recurrence can fire on it).
    await db
      .insert(calibrationSets)
      .values({ modelVersion: "v1", prompts: 200, prefixTokens: 16, source: "test", createdAt: Date.now() });
    await db
      .insert(calibrationPrefixes)
      .values(Array.from({ length: 20 }, (_, i) => ({ modelVersion: "v1", prefix: `answer ${i}`, prompts: 10 })));
  });

  /** 12 distinct prompts answered with one text (token probability `p`), from 12 clients. */
  async function recurring(p: number): Promise<void> {
    const guard = createResponseGuard(env, new GuardRuntime({ sightingsPerWrite: 1 }));
    for (let i = 0; i < 12; i++)
      await respond(guard, {
        whole: false,
        prompt: `q ${topic(i)}`,
        text: `The answer is one ${i}`,
        p,
        client: `ip:192.0.2.${i}`,
      });
  }

  it("holds a count alone (recurrence without confidence) for an operator; claim never takes it", async () => {
    await recurring(0.5);
    const detectors = (await db.select().from(guardEvents)).map((e) => e.detector);
    expect(new Set(detectors)).toEqual(new Set(["recurrence"]));
    const [job, ...more] = await jobs();
    expect(more).toHaveLength(0);
    expect(job.state).toBe("awaiting_approval");
    expect(await claimJob(db, { worker: "t", leaseMs: 60_000, now: Date.now() })).toBeNull();
    expect((await db.select().from(guardPrefixes))[0].state).toBe("new"); // not "remediating": nothing runs
  });

  it("queues the statistic with a confidence signal for the trainer at once", async () => {
    await recurring(0.999);
    const hits = (await db.select().from(guardEvents)).flatMap((e) =>
      (JSON.parse(e.hits) as { detector: string }[]).map((h) => h.detector),
    );
    expect(hits).toContain("recurrence");
    expect(hits).toContain("confidence");
    const [job] = await jobs();
    expect(job.state).toBe("queued");
    expect(await claimJob(db, { worker: "t", leaseMs: 60_000, now: Date.now() })).toMatchObject({ id: job.id });
  });

  it("promotes a held job once the statistic joins the confidence signal, and announces it then", async () => {
    const calls: string[] = [];
    const hooked = { ...env, TRAINER_WEBHOOK_URL: "https://trainer.test/hook", WEBHOOK_SECRET: "s" };
    const fetch = (async (_url: string, init: RequestInit) => {
      calls.push(String(init.body));
      return new Response("ok");
    }) as unknown as typeof globalThis.fetch;
    const guard = createResponseGuard(hooked, new GuardRuntime({ sightingsPerWrite: 1 }), { fetch });
    const ask = (i: number) =>
      respond(guard, {
        whole: false,
        prompt: `q ${topic(i)}`,
        text: `The answer is one ${i}`,
        p: 0.999,
        client: `ip:192.0.2.${i}`,
      });
    for (let i = 0; i < 3; i++) await ask(i); // confidence alone reaches the rule's 3 events
    expect((await jobs()).map((j) => j.state)).toEqual(["awaiting_approval"]);
    expect(calls).toHaveLength(0); // nothing for a trainer yet
    for (let i = 3; i < 12; i++) await ask(i); // recurrence fires from the 5th prompt on
    expect((await jobs()).map((j) => j.state)).toEqual(["queued"]);
    expect(calls.map((b) => (JSON.parse(b) as { type: string }).type)).toEqual(["job.queued"]); // once
  });

  it("queues every finding under healPolicy automatic, and holds every one under operator", async () => {
    await db.update(guardSettings).set({
      settings: JSON.stringify({
        ...DEFAULT_GUARD_SETTINGS,
        jobMinEvents: 3,
        jobMinDistinctPrompts: 3,
        healPolicy: "automatic",
      }),
    });
    await recurring(0.5); // a count alone
    expect((await jobs()).map((j) => j.state)).toEqual(["queued"]);
    await resetDatabase();
    await setSettings({ jobMinEvents: 3, jobMinDistinctPrompts: 3, healPolicy: "operator" });
    await db.insert(guardPhrases).values({ list: "t", kind: "phrase", pattern: "the answer", createdAt: Date.now() });
    await recurring(0.999); // phrase, statistic and confidence: still held
    expect((await jobs()).map((j) => j.state)).toEqual(["awaiting_approval"]);
  });

  it("holds confidence alone for an operator", async () => {
    const guard = createResponseGuard(env, new GuardRuntime());
    for (
      let i = 0;
      i < 4;
      i++ // fewer prompts than recurrence needs: only confidence fires
    )
      await respond(guard, {
        whole: false,
        prompt: `c ${topic(i)}`,
        text: "Certainly, here it is.",
        p: 0.999,
        client: `ip:192.0.2.${i}`,
      });
    expect(new Set((await db.select().from(guardEvents)).map((e) => e.detector))).toEqual(new Set(["confidence"]));
    expect((await jobs()).map((j) => j.state)).toEqual(["awaiting_approval"]);
  });
});
