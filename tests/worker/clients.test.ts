/**
 * Who is asking, through the real app inside workerd: optional API keys (CHAT_API_KEYS) with
 * OpenAI's 401s, the client id that reaches the guard's events as a hash (key, else
 * CF-Connecting-IP, else anonymous), and Cloudflare's rate-limiting binding (miniflare's)
 * keyed by that id, answering 429 in OpenAI's shape with Retry-After.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import { encodeModel } from "../../shared/model/file.js";
import { initWeights } from "../../shared/model/weights.js";
import { sha256Hex } from "../../shared/store/sha256.js";
import { createApp } from "../../worker/app.js";
import { clientHash } from "../../worker/clients/hash.js";
import { database } from "../../worker/db/index.js";
import { DEFAULT_GUARD_SETTINGS } from "../../shared/protocol/guard.js";
import { EVALUATION_HEADER } from "../../worker/clients/evaluation.js";
import { guardEvents, guardPhrases, guardSettings, prefixSightings } from "../../worker/db/schema.js";
import type { Env } from "../../worker/env.js";
import { createResponseGuard, GuardRuntime } from "../../worker/guard/index.js";
import type { ServedModels } from "../../worker/model/index.js";
import { buildModel } from "../../worker/model/load.js";
import { resetDatabase } from "./support/db.js";

const db = database(env.DB);
const config = preset("tiny");
const bytes = encodeModel({ config, tokenizer: "byte", weights: initWeights(config, 3), metadata: {} });
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

const ALICE = "alice-key-0123456789abcdef";
const UNNAMED = "unnamed-key-0123456789abcdef";

/** Calls the app as the Worker would, with `bindings` over the test env; waits for the guard's writes. */
async function call(
  path: string,
  init: { headers?: Record<string, string>; body?: object },
  bindings: Partial<Env> = {},
) {
  const runtime = new GuardRuntime({ sightingsPerWrite: 1 });
  const app = createApp({ models: () => models, guard: (e) => createResponseGuard(e, runtime) });
  const writes: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void writes.push(p), passThroughOnException() {}, props: {} };
  const res = await app.request(
    path,
    {
      method: init.body ? "POST" : "GET",
      headers: init.headers,
      body: init.body ? JSON.stringify(init.body) : undefined,
    },
    { ...env, ...bindings },
    ctx as unknown as ExecutionContext,
  );
  const json = (await res.json()) as { error?: { message: string; type: string; param: null; code: string } };
  await Promise.all(writes);
  return { res, json };
}

// Greedy, so every answer is the same four tokens: a sampled answer of these random weights
// can be all newlines or end at once, and then the phrase rule below has nothing to match.
const chatBody = {
  model: env.MODEL_NAME,
  max_tokens: 4,
  temperature: 0,
  messages: [{ role: "user", content: "hi" }],
};
const chat = (headers: Record<string, string>, bindings: Partial<Env> = {}) =>
  call("/v1/chat/completions", { headers, body: chatBody }, bindings);
const keyed = { CHAT_API_KEYS: `alice:${ALICE}, ${UNNAMED},` };

describe("API keys for /v1", () => {
  beforeEach(() => resetDatabase());

  it("answers 401 in OpenAI's shape without a key or with a wrong one, never echoing it", async () => {
    const missing = await chat({}, keyed);
    expect(missing.res.status).toBe(401);
    expect(missing.json.error).toMatchObject({ type: "invalid_request_error", param: null, code: "missing_api_key" });
    const wrong = await chat({ authorization: "Bearer not-the-key-0123456789" }, keyed);
    expect(wrong.res.status).toBe(401);
    expect(wrong.json.error).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key" });
    expect(JSON.stringify(wrong.json)).not.toContain("not-the-key");
    const legacy = await call(
      "/v1/completions",
      { body: { model: env.MODEL_NAME, prompt: "x", max_tokens: 2 } },
      keyed,
    );
    expect(legacy.res.status).toBe(401);
  });

  it("serves a named or unnamed key, and keeps /v1/models open", async () => {
    expect((await chat({ authorization: `Bearer ${ALICE}` }, keyed)).res.status).toBe(200);
    expect((await chat({ authorization: `Bearer ${UNNAMED}` }, keyed)).res.status).toBe(200);
    expect((await call("/v1/models", {}, keyed)).res.status).toBe(200);
    expect((await call(`/v1/models/${env.MODEL_NAME}`, {}, keyed)).res.status).toBe(200);
  });

  it("refuses a malformed CHAT_API_KEYS with a 500 that names no key", async () => {
    const { res, json } = await chat({ authorization: "Bearer short" }, { CHAT_API_KEYS: "alice:short" });
    expect(res.status).toBe(500);
    expect(json.error).toMatchObject({ type: "server_error", code: "api_keys_misconfigured" });
    expect(JSON.stringify(json)).not.toContain("short");
  });
});

describe("the client id reaches the guard", () => {
  beforeEach(async () => {
    await resetDatabase();
    // Every answer matches, so every request leaves an event carrying its client's hash.
    await db.insert(guardPhrases).values({ list: "t", kind: "regex", pattern: "[\\s\\S]", createdAt: Date.now() });
  });

  it("as the API key's id, else CF-Connecting-IP (an IPv6 by its /64), else anonymous", async () => {
    await chat({ authorization: `Bearer ${ALICE}`, "cf-connecting-ip": "203.0.113.7" }, keyed);
    await chat({ "cf-connecting-ip": "203.0.113.7" });
    await chat({ "cf-connecting-ip": "2001:db8:1:2:3:4:5:6" });
    await chat({});
    const hashes = (await db.select().from(guardEvents).orderBy(guardEvents.id)).map((e) => e.clientHash);
    expect(hashes).toEqual(
      ["key:alice", "ip:203.0.113.7", "ip:2001:db8:1:2::/64", "anonymous"].map((c) => clientHash(c)),
    );
  });
});

describe("the operator's evaluation traffic (x-sande-evaluation)", () => {
  const admin = { ADMIN_TOKEN: "evaluation-admin-token" };
  beforeEach(async () => {
    await resetDatabase();
    await db.insert(guardPhrases).values({ list: "t", kind: "regex", pattern: "[\\s\\S]", createdAt: Date.now() });
    const settings = JSON.stringify({ ...DEFAULT_GUARD_SETTINGS, defaultContainment: "block" });
    await db.insert(guardSettings).values({ id: 1, settings, updatedAt: Date.now() });
  });

  it("is served by the model alone: not contained, not counted, marked in the response", async () => {
    const guarded = await chat({}, admin);
    expect(guarded.json).toMatchObject({ choices: [{ finish_reason: "content_filter" }] });
    expect(await db.select().from(guardEvents)).toHaveLength(1);
    const sightings = (await db.select().from(prefixSightings)).length;
    expect(sightings).toBeGreaterThan(0);
    const evaluated = await chat({ [EVALUATION_HEADER]: admin.ADMIN_TOKEN }, admin);
    expect(evaluated.res.status).toBe(200);
    expect(evaluated.res.headers.get("x-sande-guard")).toBe("off (evaluation)");
    expect(evaluated.json).not.toMatchObject({ choices: [{ finish_reason: "content_filter" }] });
    expect(await db.select().from(guardEvents)).toHaveLength(1); // still only the guarded request's
    expect(await db.select().from(prefixSightings)).toHaveLength(sightings);
  });

  it("with a wrong token, or none configured, is refused with a 401, never served as ordinary traffic", async () => {
    const wrong = await chat({ [EVALUATION_HEADER]: "not-the-token" }, admin);
    expect(wrong.res.status).toBe(401);
    expect(wrong.json.error).toMatchObject({ code: "invalid_evaluation_token" });
    expect(JSON.stringify(wrong.json)).not.toContain("not-the-token");
    const unset = await chat({ [EVALUATION_HEADER]: "anything" }, { ADMIN_TOKEN: undefined });
    expect(unset.res.status).toBe(401);
    expect(await db.select().from(guardEvents)).toHaveLength(0);
  });
});

describe("the rate-limiting binding", () => {
  beforeEach(() => resetDatabase());

  it("answers 429 with Retry-After past the limit, per client; without the binding nothing is limited", async () => {
    const limited = { CHAT_RATE_LIMITER: env.TEST_RATE_LIMITER };
    const from = (ip: string) => ({ "cf-connecting-ip": ip });
    for (let i = 0; i < 3; i++) expect((await chat(from("198.51.100.1"), limited)).res.status).toBe(200);
    const over = await chat(from("198.51.100.1"), limited);
    expect(over.res.status).toBe(429);
    expect(over.res.headers.get("retry-after")).toBe("60");
    expect(over.json.error).toMatchObject({ type: "requests", param: null, code: "rate_limit_exceeded" });
    const legacy = await call(
      "/v1/completions",
      { headers: from("198.51.100.1"), body: { model: env.MODEL_NAME, prompt: "x", max_tokens: 2 } },
      limited,
    );
    expect(legacy.res.status).toBe(429);
    expect((await chat(from("198.51.100.2"), limited)).res.status).toBe(200); // another client
    expect((await call("/v1/models", { headers: from("198.51.100.1") }, limited)).res.status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await chat(from("198.51.100.3"))).res.status).toBe(200);
  });
});
