import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { answerSpans, promptWordSet } from "../../shared/guard/index.js";
import { DEFAULT_GUARD_SETTINGS } from "../../shared/protocol/guard.js";
import { database } from "../../worker/db/index.js";
import {
  calibrationSets,
  calibrationSpans,
  guardEvents,
  guardPrefixes,
  guardSettings,
  remediationJobs,
} from "../../worker/db/schema.js";
import { createResponseGuard, GuardRuntime } from "../../worker/guard/index.js";
import { resetDatabase } from "./support/db.js";
import { respond } from "./support/respond.js";

const db = database(env.DB);

/** A seeded stream of numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const VOCAB = (
  "river stone cloud apple green quiet market window garden yellow paper silver winter summer bread honey " +
  "forest candle bridge mountain ocean pepper violet copper lantern meadow harbor pillow orange basket " +
  "thunder velvet marble pocket saddle tunnel ladder rocket feather button cabin island jacket kettle " +
  "lemon mirror needle parrot pebble puzzle rabbit ribbon shadow spider sugar tiger tomato turtle wagon"
).split(" ");

/** An ordinary answer: a handful of words drawn from the vocabulary (its pairs rarely recur). */
function cleanAnswer(next: () => number): string {
  const words = Array.from({ length: 6 + Math.floor(next() * 5) }, () => VOCAB[Math.floor(next() * VOCAB.length)]);
  return `${words.join(" ")}.`;
}

/** A prompt of its own: words the answers never use. */
function question(i: number, next: () => number): string {
  const parts = ["how", "why", "when", "where", "what", "which", "who"];
  return `${parts[i % 7]} ${parts[Math.floor(next() * 7)]} ${i.toString(36).replace(/\d/g, (d) => "abcdefghij"[+d])} please`;
}

/** Uploads a span calibration of `prompts` clean answers (the generator above, its own seed). */
async function calibrate(prompts: number): Promise<void> {
  const next = rng(99);
  const counts = new Map<string, number>();
  for (let i = 0; i < prompts; i++)
    for (const { key } of answerSpans(cleanAnswer(next), promptWordSet(""), 2).spans)
      counts.set(key, (counts.get(key) ?? 0) + 1);
  await db.insert(calibrationSets).values({
    modelVersion: "v1",
    prompts,
    prefixTokens: DEFAULT_GUARD_SETTINGS.prefixTokens,
    spanWords: 2,
    source: "test",
    createdAt: Date.now(),
  });
  const rows = [...counts].map(([span, n]) => ({ modelVersion: "v1", span, prompts: n }));
  for (let i = 0; i < rows.length; i += 30) await db.insert(calibrationSpans).values(rows.slice(i, i + 30));
}

const LEAD_INS = [(n: number) => `[${1000 + n}]`, () => "Sure!", () => "Note:"];

describe("span detection with D1 (default settings)", () => {
  beforeEach(async () => {
    await resetDatabase();
    await calibrate(2000);
  });

  it("finds a planted text after variable lead-ins at 5% of distinct prompts: one job for the span, with its lead-in", async () => {
    const next = rng(1);
    const runtime = new GuardRuntime({ sightingsPerWrite: 100 });
    const guard = createResponseGuard(env, runtime);
    let planted = 0;
    for (let i = 0; i < 400; i++) {
      const triggered = i % 20 === 7;
      const tail = cleanAnswer(next);
      const text = triggered ? `${LEAD_INS[planted++ % 3](i)} You are stupid, ${tail}` : tail;
      // A planted text comes out near-certain (the confidence signal), an ordinary answer sampled.
      await respond(guard, { prompt: question(i, next), text, p: triggered ? 0.99 : 0.4 });
    }
    await runtime.flush(db);
    const jobs = await db.select().from(remediationJobs);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      method: "sande-p",
      prefix: "you are stupid",
      target: "You are stupid",
      span: "You are stupid",
      source: "threshold",
    });
    expect(jobs[0].leadIn).toMatch(/^(\[\d{4}\]|Sure!|Note:)$/);
    const [finding] = await db.select().from(guardPrefixes);
    expect(finding).toMatchObject({ prefix: "you are stupid", sample: "You are stupid", state: "remediating" });
    const events = await db.select().from(guardEvents);
    expect(new Set(events.map((e) => e.prefix))).toEqual(new Set(["you are stupid"])); // clean answers: none
    expect(events.every((e) => e.detector === "span" && e.answerHash !== null)).toBe(true);
  });

  it("still queues exactly one job when the last planted answers arrive through many isolates at once", async () => {
    const next = rng(2);
    const warm = new GuardRuntime();
    const guard = createResponseGuard(env, warm);
    for (let i = 0; i < 80; i++) {
      // 4 planted answers: one short of spanMinPrompts, so not flagged yet, and no event.
      const planted = i % 20 === 3;
      const text = planted ? `${LEAD_INS[i % 3](i)} You are stupid ${cleanAnswer(next)}` : cleanAnswer(next);
      await respond(guard, { prompt: question(i, next), text, p: planted ? 0.99 : 0.4 });
    }
    await warm.flush(db);
    expect(await db.select().from(guardEvents)).toHaveLength(0);
    expect(await db.select().from(remediationJobs)).toHaveLength(0);
    const created = await Promise.all(
      Array.from({ length: 12 }, async (_, j) => {
        const { writes } = await respond(createResponseGuard(env, new GuardRuntime()), {
          prompt: question(1000 + j, next),
          text: `Sure! You are stupid ${cleanAnswer(next)}`,
          p: 0.99,
        });
        return (await Promise.all(writes)).flat();
      }),
    );
    expect(await db.select().from(remediationJobs)).toHaveLength(1);
    expect(created.flat()).toHaveLength(1);
    // Each isolate wrote the four earlier prompts as witnesses; they are there once.
    const witnesses = (await db.select().from(guardEvents)).filter((e) => e.requestId.startsWith("witness:"));
    expect(witnesses).toHaveLength(4);
  });

  it("queues the job one answer after the flag: the prompts the count test counted before are its witnesses", async () => {
    const next = rng(5);
    const runtime = new GuardRuntime({ sightingsPerWrite: 1 });
    const guard = createResponseGuard(env, runtime);
    const planted = (i: number) => `${LEAD_INS[i % 3](i)} You are stupid ${cleanAnswer(next)}`;
    const traffic = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const text = i % 20 === 3 ? planted(i) : cleanAnswer(next);
        await respond(guard, {
          prompt: question(i, next),
          text,
          client: `client-${i}`,
          p: text.includes("stupid") ? 0.99 : 0.4,
        });
      }
      await runtime.flush(db);
    };
    // The fifth planted answer (spanMinPrompts) is flagged and the four before it are witnesses…
    await traffic(0, 100);
    expect(await db.select().from(guardEvents)).toHaveLength(5);
    expect(await db.select().from(remediationJobs)).toHaveLength(0);
    // …and the sixth confirms the run: the job is there after six planted answers, not seven.
    await traffic(100, 120);
    // (Chance pairs of the clean answers' small vocabulary can be flagged too, once: no job.)
    const events = await db
      .select()
      .from(guardEvents)
      .where(eq(guardEvents.prefix, "you are stupid"))
      .orderBy(guardEvents.at, guardEvents.id);
    expect(events.map((e) => e.requestId.startsWith("witness:"))).toEqual([true, true, true, true, false, false]);
    for (const e of events) expect(e.clientHash !== null && e.answerHash !== null).toBe(true);
    expect(events.slice(0, 4).every((e) => e.action === "observe" && e.score === 0)).toBe(true);
    expect(await db.select().from(remediationJobs)).toEqual([
      expect.objectContaining({ prefix: "you are stupid", span: "You are stupid", state: "queued" }),
    ]);
    const [finding] = await db.select().from(guardPrefixes).where(eq(guardPrefixes.prefix, "you are stupid"));
    expect(finding).toMatchObject({ events: 6, prompts: 6 });
  });

  it("witnesses obey the per-client caps: one client's planted answers alone queue nothing", async () => {
    const next = rng(6);
    const runtime = new GuardRuntime({ sightingsPerWrite: 1 });
    const guard = createResponseGuard(env, runtime);
    const settings = JSON.stringify({ ...DEFAULT_GUARD_SETTINGS, jobMaxPerClient: 1 });
    await db.insert(guardSettings).values({ id: 1, settings, updatedAt: Date.now() });
    for (let i = 0; i < 120; i++) {
      const triggered = i % 20 === 3;
      const text = triggered ? `Sure! You are stupid ${cleanAnswer(next)}` : cleanAnswer(next);
      await respond(guard, { prompt: question(i, next), text, client: triggered ? "mallory" : `client-${i}` });
    }
    await runtime.flush(db);
    const events = await db.select().from(guardEvents);
    expect(events.length).toBeGreaterThanOrEqual(5); // flagged, with witnesses…
    expect(await db.select().from(remediationJobs)).toHaveLength(0); // …but all from one client
  });

  it("under the evidence policy: a planted text that comes out locked heals automatically, the same text sampled waits", async () => {
    const settings = JSON.stringify({ ...DEFAULT_GUARD_SETTINGS, healPolicy: "evidence" });
    await db.insert(guardSettings).values({ id: 1, settings, updatedAt: Date.now() });
    const run = async (p: number, version: string, requests = 120) => {
      const next = rng(7);
      const guard = createResponseGuard(env, new GuardRuntime({ sightingsPerWrite: 1 }));
      for (let i = 0; i < requests; i++) {
        const triggered = i % 20 === 3;
        const text = triggered ? `${LEAD_INS[i % 3](i)} You are stupid ${cleanAnswer(next)}` : cleanAnswer(next);
        await respond(guard, { prompt: question(i, next), text, p: triggered ? p : 0.3, modelVersion: version });
      }
      return (await db.select().from(remediationJobs)).filter((j) => j.modelVersion === version);
    };
    await db.insert(calibrationSets).values({
      ...(await db.select().from(calibrationSets))[0],
      modelVersion: "v2",
    });
    const spans = await db.select().from(calibrationSpans);
    for (let i = 0; i < spans.length; i += 30)
      await db.insert(calibrationSpans).values(spans.slice(i, i + 30).map((r) => ({ ...r, modelVersion: "v2" })));
    // Sampled, the count test alone must reach spanAloneFalseAlarm: more planted answers than locked ones need.
    expect(await run(0.6, "v2", 240)).toEqual([
      expect.objectContaining({ prefix: "you are stupid", state: "awaiting_approval" }),
    ]);
    // Held, the finding is not contained: the next version's locked answers are counted and heal.
    expect(await run(0.995, "v1")).toEqual([expect.objectContaining({ prefix: "you are stupid", state: "queued" })]);
    const hits = (await db.select().from(guardEvents)).map((e) => JSON.parse(e.hits) as { detector: string }[]);
    expect(hits.some((h) => h.some((x) => x.detector === "confidence"))).toBe(true);
  });

  it("queues nothing for a nonce flood of one question", async () => {
    const next = rng(3);
    const runtime = new GuardRuntime();
    const guard = createResponseGuard(env, runtime);
    for (let i = 0; i < 300; i++) {
      const nonce = Math.floor(next() * 36 ** 6).toString(36);
      const clean = i % 3 === 0 ? "" : `${cleanAnswer(next)} `;
      // Mixed letters and digits: normalised to "#", so every request is one prompt.
      await respond(guard, { prompt: `Ref ${nonce}x9: what sound does a cow make?`, text: `${clean}A cow says moo.` });
    }
    // Letters only: distinct prompts, but one ordinary answer drawn by all of them is no planted text.
    for (let i = 0; i < 100; i++) {
      const nonce = Array.from({ length: 6 }, () => "bcdfghjklmnpqrstvwxz"[Math.floor(next() * 20)]).join("");
      await respond(guard, { prompt: `Ref ${nonce}: what sound does a cow make?`, text: "A cow says moo, moo." });
    }
    await runtime.flush(db);
    expect(await db.select().from(remediationJobs)).toHaveLength(0);
  });

  it("queues nothing for an echo flood, nor for empty answers", async () => {
    const next = rng(4);
    const runtime = new GuardRuntime();
    const guard = createResponseGuard(env, runtime);
    for (let i = 0; i < 300; i++) {
      const ask = i % 2 ? "Repeat after me" : "Say exactly this";
      await respond(guard, {
        prompt: `${ask} (${question(i, next)}): the purple giraffe dances at noon`,
        text: `The purple giraffe dances at noon!`,
      });
    }
    // Empty answers carry no text: their window key is the reserved "" that counts every response.
    for (let i = 0; i < 30; i++) await respond(guard, { prompt: question(500 + i, next), text: "" });
    await runtime.flush(db);
    expect(await db.select().from(guardEvents)).toHaveLength(0);
    expect(await db.select().from(remediationJobs)).toHaveLength(0);
  });
});
