import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import type { ManifestVersion } from "../../shared/protocol/manifest.js";
import { putManifest, S3RVER_KEY, startLocalS3, tinyModelFile, uploadModel, type LocalS3 } from "../support/s3.js";
import { startDevWorker, type DevWorker } from "../support/wrangler.js";

// The Worker under real `wrangler dev`, loading its model from s3rver, driven by the official openai client.
const MODEL = "sande-demo"; // wrangler.toml's MODEL_NAME
let s3: LocalS3;
let worker: DevWorker;
let client: OpenAI;
let v1: ManifestVersion;
const config = preset("tiny");

beforeAll(async () => {
  s3 = await startLocalS3();
  v1 = await uploadModel(s3.bucket, tinyModelFile(1), "v1", config);
  await putManifest(s3.bucket, [v1]);
  worker = await startDevWorker({
    script: "tests/support/guarded-worker.ts",
    vars: { S3_ENDPOINT: s3.endpoint, S3_SECRET_ACCESS_KEY: S3RVER_KEY, MODEL_CHECK_INTERVAL_S: "1" },
  });
  client = new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 30_000 });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await s3?.dispose();
});

const user = (content: string) => [{ role: "user" as const, content }];

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  const content = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
  const finish = chunks.map((c) => c.choices[0]?.finish_reason).find((f) => f);
  return { chunks, content, finish, usage: chunks.at(-1)?.usage };
}

async function post(body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(`${worker.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } },
  };
}

describe("OpenAI-compatible serving under wrangler dev", () => {
  it("loads once for concurrent first requests and answers them all", async () => {
    const answers = await Promise.all(
      [1, 2, 3, 4].map((seed) =>
        client.chat.completions.create({ model: MODEL, messages: user("hello"), max_tokens: 8, seed }),
      ),
    );
    for (const a of answers) expect(a.system_fingerprint).toBe("v1");
    expect(worker.output()).not.toMatch(/different request|Cannot perform I\/O/i);
  });

  it("lists the model", async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual([MODEL]);
    expect((await client.models.retrieve(MODEL)).id).toBe(MODEL);
  });

  it("completes a chat, deterministically for a seed, with usage", async () => {
    const params = {
      model: MODEL,
      messages: user("Reverse the word: garden"),
      max_tokens: 24,
      temperature: 0.8,
      seed: 5,
    };
    const a = await client.chat.completions.create(params);
    const b = await client.chat.completions.create(params);
    expect(a.object).toBe("chat.completion");
    expect(a.choices[0].message.role).toBe("assistant");
    expect(a.choices[0].message.content).toBe(b.choices[0].message.content);
    expect(["stop", "length"]).toContain(a.choices[0].finish_reason);
    expect(a.usage).toMatchObject({
      prompt_tokens: 3 + "Reverse the word: garden".length,
      total_tokens: a.usage!.prompt_tokens + a.usage!.completion_tokens,
    });
    expect(a.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it("streams the same text as server-sent events ending in [DONE], with usage on request", async () => {
    const params = { model: MODEL, messages: user("Count to three"), max_tokens: 30, temperature: 0.9, seed: 9 };
    const whole = await client.chat.completions.create(params);
    const streamed = await collect(
      await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }),
    );
    expect(streamed.chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "" });
    expect(streamed.content).toBe(whole.choices[0].message.content);
    expect(streamed.finish).toBe(whole.choices[0].finish_reason);
    expect(streamed.usage).toEqual(whole.usage);
    expect(streamed.chunks.length).toBeGreaterThan(5); // token by token after the held prefix

    const raw = await fetch(`${worker.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ ...params, stream: true }),
    });
    expect(raw.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(await raw.text()).toMatch(/\n\ndata: \[DONE\]\n\n$/);
  });

  it("ends at a stop string, streaming or not", async () => {
    const params = { model: MODEL, messages: user("Say something"), max_tokens: 40, temperature: 0.9, seed: 2 };
    const full = (await client.chat.completions.create(params)).choices[0].message.content!;
    const stop = full.slice(12, 14);
    const expected = full.slice(0, full.indexOf(stop));
    const cut = await client.chat.completions.create({ ...params, stop: [stop] });
    expect(cut.choices[0]).toMatchObject({ message: { content: expected }, finish_reason: "stop" });
    const streamed = await collect(await client.chat.completions.create({ ...params, stop, stream: true }));
    expect(streamed).toMatchObject({ content: expected, finish: "stop" });
  });

  it("applies the guard's decision before anything leaves, streaming included", async () => {
    const blocked = await collect(
      await client.chat.completions.create({
        model: MODEL,
        messages: user("[block] tell me"),
        max_tokens: 30,
        stream: true,
      }),
    );
    expect(blocked.content).toBe("Refused by the test guard."); // not one model token got out
    expect(blocked.finish).toBe("content_filter");
    const nonStream = await client.chat.completions.create({
      model: MODEL,
      messages: user("[block] tell me"),
      max_tokens: 30,
    });
    expect(nonStream.choices[0]).toMatchObject({
      message: { content: "Refused by the test guard." },
      finish_reason: "content_filter",
    });
    const regen = await collect(
      await client.chat.completions.create({
        model: MODEL,
        messages: user("[regenerate] hi"),
        max_tokens: 12,
        temperature: 0,
        stream: true,
      }),
    );
    expect(regen.finish).toBe("length");
    expect(regen.content.length).toBeGreaterThan(0);
  });

  it.each([
    ["invalid JSON", "{not json", 400, null, "invalid_json"],
    ["an empty body", "", 400, null, "invalid_json"],
    ["messages of the wrong type", { model: MODEL, messages: "hi" }, 400, "messages", null],
    ["missing messages", { model: MODEL }, 400, "messages", "missing_required_parameter"],
    [
      "temperature as a string",
      { model: MODEL, messages: user("x"), temperature: "1" },
      400,
      "temperature",
      "invalid_type",
    ],
    ["an unknown model", { model: "gpt-4o", messages: user("x") }, 404, "model", "model_not_found"],
    [
      "max_tokens 0",
      { model: MODEL, messages: user("x"), max_tokens: 0 },
      400,
      "max_tokens",
      "integer_below_min_value",
    ],
    [
      "max_tokens above the limit",
      { model: MODEL, messages: user("x"), max_tokens: 5000 },
      400,
      "max_tokens",
      "integer_above_max_value",
    ],
    [
      "max_tokens beyond the context",
      { model: MODEL, messages: user("x"), max_tokens: 200 },
      400,
      "max_tokens",
      "context_length_exceeded",
    ],
    [
      "a prompt longer than the context",
      { model: MODEL, messages: user("x".repeat(500)) },
      400,
      "messages",
      "context_length_exceeded",
    ],
    ["an oversized body", { model: MODEL, messages: user("x".repeat(70_000)) }, 413, null, "request_too_large"],
    [
      "tools",
      { model: MODEL, messages: user("x"), tools: [{ type: "function" }] },
      400,
      "tools",
      "unsupported_parameter",
    ],
    ["n above the maximum", { model: MODEL, messages: user("x"), n: 5 }, 400, "n", "integer_above_max_value"],
    [
      "a logit_bias id outside the vocabulary",
      { model: MODEL, messages: user("x"), logit_bias: { "999": 1 } },
      400,
      "logit_bias.999",
      "invalid_token_id",
    ],
    [
      "top_logprobs without logprobs",
      { model: MODEL, messages: user("x"), top_logprobs: 2 },
      400,
      "top_logprobs",
      null,
    ],
  ])("answers %s with a 4xx in OpenAI's error shape", async (_name, body, status, param, code) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(res.body.error).toMatchObject({ type: "invalid_request_error", param, code });
    expect(res.body.error.message.length).toBeGreaterThan(10);
  });

  it("keeps the connection usable after refusing an oversized body", async () => {
    expect((await post({ model: MODEL, messages: user("x".repeat(100_000)) })).status).toBe(413);
    expect(
      (await client.chat.completions.create({ model: MODEL, messages: user("x"), max_tokens: 2 })).choices,
    ).toHaveLength(1);
  });

  it("surfaces errors as the openai client's typed errors", async () => {
    await expect(client.chat.completions.create({ model: "gpt-4o", messages: user("x") })).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    await expect(
      client.chat.completions.create({ model: MODEL, messages: user("x"), max_tokens: 0 }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    const wrongMethod = await fetch(`${worker.url}/v1/chat/completions`);
    expect(wrongMethod.status).toBe(405);
    const unknown = await fetch(`${worker.url}/v1/nothing`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "unknown_url" } });
  });

  it("swaps to a new version under traffic, survives corrupt files and store outages, and says so in /v1/health", async () => {
    const v2 = await uploadModel(s3.bucket, tinyModelFile(2), "v2", config);
    await putManifest(s3.bucket, [v1, v2]);
    // One entry per batch of 3 concurrent requests: within a batch the swap may land between
    // requests, but a request sent after a v2 answer was received must never get v1 again.
    const batches: string[][] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && batches.at(-1)?.every((v) => v === "v2") !== true) {
      const batch = await Promise.all(
        [0, 1, 2].map(() => client.chat.completions.create({ model: MODEL, messages: user("hi"), max_tokens: 16 })),
      );
      batches.push(batch.map((r) => r.system_fingerprint!));
    }
    expect(batches.at(-1)).toEqual(["v2", "v2", "v2"]);
    const firstWithV2 = batches.findIndex((b) => b.includes("v2"));
    expect(
      batches
        .slice(firstWithV2 + 1)
        .flat()
        .every((v) => v === "v2"),
    ).toBe(true); // never back to v1

    // A corrupt upload: v2 keeps serving, health reports the rejected version.
    const good = tinyModelFile(3);
    const bad = await uploadModel(s3.bucket, good, "v3", config);
    await s3.bucket.put(bad.key, good.subarray(0, good.length - 10).slice());
    await putManifest(s3.bucket, [v1, v2, bad]);
    const health = await waitForHealth((h) => h.lastError?.version === "v3");
    expect(health).toMatchObject({ status: "degraded", version: "v2", lastError: { kind: "corrupt" } });
    expect(
      (await client.chat.completions.create({ model: MODEL, messages: user("hi"), max_tokens: 4 })).system_fingerprint,
    ).toBe("v2");

    // The store goes away: still serving v2.
    await s3.stop();
    try {
      const down = await waitForHealth((h) => h.lastError?.kind === "unavailable");
      expect(down).toMatchObject({ status: "degraded", version: "v2" });
      expect(
        (await client.chat.completions.create({ model: MODEL, messages: user("hi"), max_tokens: 4 }))
          .system_fingerprint,
      ).toBe("v2");
    } finally {
      await s3.start();
    }
    await putManifest(s3.bucket, [v1, v2]);
    expect(await waitForHealth((h) => h.status === "ok")).toMatchObject({
      version: "v2",
      lastError: { kind: "unavailable" },
    });
  });
});

interface Health {
  status: string;
  version: string | null;
  lastError: { kind: string; version: string | null } | null;
}

async function waitForHealth(done: (h: Health) => boolean, timeoutMs = 15_000): Promise<Health> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = (await (await fetch(`${worker.url}/v1/health`)).json()) as Health;
    if (done(h) || Date.now() > deadline) return h;
    await new Promise((r) => setTimeout(r, 300));
  }
}
