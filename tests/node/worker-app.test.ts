import { beforeAll, describe, expect, it, vi } from "vitest";
import { preset } from "../../shared/model/config.js";
import { createApp } from "../../worker/app.js";
import type { Env } from "../../worker/env.js";
import type { GuardSession, ResponseGuard } from "../../worker/guard/contract.js";
import { ModelStore, type LoadedModel, type ServedModels } from "../../worker/model/index.js";
import { S3Bucket, sha256Hex } from "../../shared/store/index.js";
import { buildModel } from "../../worker/model/load.js";
import { FunctionGuard } from "../support/guards.js";
import { tinyModelFile } from "../support/s3.js";

// The app's failure paths in plain Node (app.request): what must never become an unexplained 5xx.
const env = { MODEL_NAME: "m" } as unknown as Env;
const bytes = tinyModelFile(4);
const loaded: LoadedModel = await buildModel(
  {
    version: "v1",
    key: "k",
    sha256: sha256Hex(bytes),
    size: bytes.byteLength,
    config: preset("tiny"),
    createdAt: "",
  },
  bytes,
);
const fixed: ServedModels = {
  acquire: async () => loaded,
  current: () => loaded,
  status: () => new ModelStore({ bucket: deadBucket(), manifestKey: "m", checkIntervalMs: 1 }).status(),
};

function deadBucket(): S3Bucket {
  return new S3Bucket({
    endpoint: "http://127.0.0.1:9",
    region: "us-east-1",
    bucket: "b",
    accessKeyId: "k",
    secretAccessKey: "s",
    timeoutMs: 2_000,
  });
}

function chat(app: ReturnType<typeof createApp>, body: object) {
  return app.request(
    "/v1/chat/completions",
    {
      method: "POST",
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }], max_tokens: 8, ...body }),
    },
    env,
  );
}

/** A guard whose session counts finish() calls and can fail on demand. */
function countingGuard(inspect: GuardSession["inspect"]): ResponseGuard & { finished: number } {
  const g = {
    finished: 0,
    async begin(): Promise<GuardSession> {
      return { prefixTokens: 4, inspect, finish: () => void g.finished++ };
    },
  };
  return g;
}

describe("worker app failure paths", () => {
  beforeAll(() => void vi.spyOn(console, "error").mockImplementation(() => undefined)); // expected 5xx logs

  it("answers 503 model_unavailable (OpenAI-shaped) while the store is unreachable and nothing is loaded", async () => {
    const store = new ModelStore({ bucket: deadBucket(), manifestKey: "manifest.json", checkIntervalMs: 60_000 });
    const app = createApp({ models: () => store });
    const res = await chat(app, {});
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      error: { type: "service_unavailable_error", code: "model_unavailable", param: null },
    });
    const health = await app.request("/v1/health", {}, env);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: "unavailable", lastError: { kind: "unavailable" } });
    // Bad input is still a 4xx, not a 503: validation comes first.
    expect((await chat(app, { max_tokens: "x" })).status).toBe(400);
  });

  it("refuses to serve unguarded when the guard cannot begin", async () => {
    const app = createApp({
      models: () => fixed,
      guard: () => ({ begin: () => Promise.reject(new Error("D1 down")) }),
    });
    const res = await chat(app, {});
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "guard_unavailable" } });
  });

  it("turns a failing guard decision into a 500 before any byte is streamed, and still finishes the session", async () => {
    const guard = countingGuard(() => {
      throw new Error("bug");
    });
    const app = createApp({ models: () => fixed, guard: () => guard });
    for (const stream of [false, true]) {
      const res = await chat(app, { stream });
      expect(res.status).toBe(500);
      expect(res.headers.get("content-type")).toMatch(/json/);
      expect(await res.json()).toEqual({
        error: { message: expect.any(String), type: "server_error", param: null, code: "internal_error" },
      });
    }
    expect(guard.finished).toBe(2);
  });

  it("finishes the guard session exactly once: answered, streamed, or cancelled by the client", async () => {
    const guard = countingGuard(() => ({ action: "pass" }));
    const app = createApp({ models: () => fixed, guard: () => guard });
    expect((await chat(app, {})).status).toBe(200);
    expect(guard.finished).toBe(1);
    await (await chat(app, { stream: true })).text();
    expect(guard.finished).toBe(2);
    const reader = (await chat(app, { stream: true, max_tokens: 100 })).body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(guard.finished).toBe(3);
  });

  it("hands the guard the templated prompt, model version and a server-chosen request id", async () => {
    const guard = new FunctionGuard(() => ({ action: "pass" }));
    const app = createApp({ models: () => fixed, guard: () => guard });
    const headers = { "x-request-id": "spoofed", "x-client-request-id": "client-7" };
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }], max_tokens: 3 });
    const res = await app.request("/v1/chat/completions", { method: "POST", headers, body }, env);
    const id = res.headers.get("x-request-id")!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/); // the guard stores events under it: never the client's
    expect(res.headers.get("x-client-request-id")).toBe("client-7");
    expect((await res.json()) as object).toMatchObject({ id: `chatcmpl-${id}`, system_fingerprint: "v1" });
    expect(guard.log.begun[0]).toMatchObject({
      requestId: id,
      promptText: "<|user|>hi<|end|><|assistant|>",
      modelVersion: "v1",
    });
    expect(guard.log.finished).toBe(1);
    const streamed = await app.request(
      "/v1/chat/completions",
      { method: "POST", headers, body: body.replace("}],", '}], "stream": true,') },
      env,
    );
    expect(streamed.headers.get("content-type")).toMatch(/event-stream/);
    expect(streamed.headers.get("x-request-id")).toBe(guard.log.begun[1].requestId);
    expect(streamed.headers.get("x-client-request-id")).toBe("client-7");
    await streamed.text();
  });

  it("validates its options once, at construction", () => {
    expect(() => createApp({ limits: { maxTokens: 0 } })).toThrow(/limits.maxTokens must be a positive integer/);
  });
});
