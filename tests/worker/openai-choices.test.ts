/**
 * n choices through the real app with the real D1 guard, inside workerd: each choice is
 * guarded on its own (its own session, inspected and contained), and the guard counts the
 * prompt once (one event per request, one sighting per prefix and prompt), however many
 * choices were drawn from it.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import { encodeModel } from "../../shared/model/file.js";
import { initWeights } from "../../shared/model/weights.js";
import { DEFAULT_GUARD_SETTINGS } from "../../shared/protocol/guard.js";
import { sha256Hex } from "../../shared/store/sha256.js";
import { createApp } from "../../worker/app.js";
import { database } from "../../worker/db/index.js";
import { guardEvents, guardPhrases, guardPrefixes, guardSettings, prefixSightings } from "../../worker/db/schema.js";
import { createResponseGuard, GuardRuntime } from "../../worker/guard/index.js";
import type { ServedModels } from "../../worker/model/index.js";
import { buildModel } from "../../worker/model/load.js";
import { resetDatabase } from "./support/db.js";

const db = database(env.DB);

// A tiny model with weights large enough for varied answers (initWeights alone gives near-uniform logits).
const config = preset("tiny");
const weights = initWeights(config, 6);
for (const [name, t] of weights) if (!name.includes("ln_")) for (let i = 0; i < t.data.length; i++) t.data[i] *= 15;
const bytes = encodeModel({ config, tokenizer: "byte", weights, metadata: {} });
const loaded = await buildModel(
  { version: "v1", key: "k", sha256: sha256Hex(bytes), size: bytes.byteLength, config, createdAt: "" },
  bytes,
);
const models: ServedModels = {
  acquire: async () => loaded,
  current: () => loaded,
  status: () => {
    throw new Error("not used");
  },
};

/** Posts a chat request; waits for the guard's writes (waitUntil) before returning. */
async function chat(runtime: GuardRuntime, body: object) {
  const app = createApp({ models: () => models, guard: (e) => createResponseGuard(e, runtime) });
  const writes: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void writes.push(p), passThroughOnException() {}, props: {} };
  const res = await app.request(
    "/v1/chat/completions",
    { method: "POST", body: JSON.stringify({ model: env.MODEL_NAME, max_tokens: 24, temperature: 1, ...body }) },
    env,
    ctx as unknown as ExecutionContext,
  );
  const json = (await res.json()) as { choices: { message: { content: string }; finish_reason: string }[] };
  await Promise.all(writes);
  await runtime.flush(db); // sightings the write rule left buffered
  return { res, json };
}

describe("n choices under the D1 guard", () => {
  beforeEach(async () => {
    await resetDatabase();
    const settings = { ...DEFAULT_GUARD_SETTINGS, defaultContainment: "block" as const };
    await db.insert(guardSettings).values({ id: 1, settings: JSON.stringify(settings), updatedAt: Date.now() });
    // An operator rule every answer matches, so every choice is flagged.
    await db
      .insert(guardPhrases)
      .values({ list: "test", kind: "regex", pattern: ".", score: 1, createdAt: Date.now() });
  });

  it("contains every choice on its own and counts the prompt once", async () => {
    const messages = [{ role: "user", content: "Tell me something" }];
    const { res, json } = await chat(new GuardRuntime(), { messages, n: 3, seed: 1 });
    expect(res.status).toBe(200);
    expect(json.choices.map((c) => [c.message.content, c.finish_reason])).toEqual(
      Array(3).fill([DEFAULT_GUARD_SETTINGS.blockMessage, "content_filter"]),
    );
    // Logged once per finding: each choice's own window is a finding, all of the one request and prompt.
    const events = await db.select().from(guardEvents);
    expect(new Set(events.map((e) => e.requestId))).toEqual(new Set([res.headers.get("x-request-id")]));
    expect(new Set(events.map((e) => e.promptHash)).size).toBe(1);
    expect(events.length).toBe(new Set(events.map((e) => e.prefix)).size);
    const sightings = await db.select().from(prefixSightings);
    expect(sightings.length).toBeGreaterThanOrEqual(2); // the choices' prefixes differ…
    expect(new Set(sightings.map((s) => s.promptHash)).size).toBe(1); // …but they all count one prompt
    for (const p of await db.select().from(guardPrefixes)) expect(p.prompts).toBe(1);
  });

  it("counts distinct prompts as distinct, one event each", async () => {
    const runtime = new GuardRuntime();
    for (const content of ["first prompt", "second prompt", "third prompt"])
      await chat(runtime, { messages: [{ role: "user", content }], n: 2, seed: 5 });
    const events = await db.select().from(guardEvents);
    expect(new Set(events.map((e) => e.requestId)).size).toBe(3);
    expect(new Set(events.map((e) => e.promptHash)).size).toBe(3);
    for (const id of new Set(events.map((e) => e.requestId))) {
      const own = events.filter((e) => e.requestId === id);
      expect(own.length).toBe(new Set(own.map((e) => e.prefix)).size); // once per finding
    }
  });
});
