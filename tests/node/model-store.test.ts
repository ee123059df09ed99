import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generate } from "../../shared/inference/index.js";
import { preset } from "../../shared/model/config.js";
import type { ManifestVersion } from "../../shared/protocol/manifest.js";
import type { Env } from "../../worker/env.js";
import { publishVersion, sha256Hex, writeManifest } from "../../shared/store/index.js";
import { checkModelNow, modelStore, readManifest, rollbackTo, StoreError } from "../../worker/model/index.js";
import { ModelStore } from "../../worker/model/store.js";
import {
  putManifest,
  S3RVER_KEY,
  startLocalS3,
  TEST_BUCKET,
  TEST_MANIFEST_KEY,
  tinyModelFile,
  uploadModel,
  type LocalS3,
} from "../support/s3.js";

// The Worker's model store against a real S3 API (s3rver), through the store's S3 client.
let s3: LocalS3;
const config = preset("tiny");
let v1: ManifestVersion;
let v2: ManifestVersion;
const statuses: number[] = [];
const realFetch = globalThis.fetch;

beforeAll(async () => {
  s3 = await startLocalS3();
  v1 = await uploadModel(s3.bucket, tinyModelFile(1), "v1", config, { note: "seed" });
  v2 = await uploadModel(s3.bucket, tinyModelFile(2), "v2", config, { parent: "v1" });
  // Record the store's answers to tell a 304 from a full GET.
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const res = await realFetch(input, init);
    statuses.push(res.status);
    return res;
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await s3?.dispose();
});

function newStore(intervalMs = 60_000): ModelStore {
  return new ModelStore({ bucket: s3.bucket, manifestKey: TEST_MANIFEST_KEY, checkIntervalMs: intervalMs });
}

function greedy(m: Awaited<ReturnType<ModelStore["acquire"]>>): number[] {
  return [...generate(m.model, [258, 104, 105, 260, 259], { maxTokens: 6, temperature: 0 })].map((t) => t.token);
}

describe("model store over S3", () => {
  it("reports the missing manifest and does not hammer the store before its interval", async () => {
    const store = newStore();
    await expect(store.acquire()).rejects.toMatchObject({ kind: "not_found" });
    statuses.length = 0;
    await expect(store.acquire()).rejects.toBeInstanceOf(StoreError);
    expect(statuses).toEqual([]); // failed fast, no request
    expect(store.status()).toMatchObject({ status: "unavailable", version: null, lastError: { kind: "not_found" } });
  });

  it("loads the current version, verified, then re-checks with a conditional GET", async () => {
    await putManifest(s3.bucket, [v1]);
    const store = newStore();
    const m = await store.acquire();
    expect(m).toMatchObject({ version: "v1", sha256: v1.sha256, key: v1.key });
    expect(store.status()).toMatchObject({
      status: "ok",
      version: "v1",
      lastCheck: { outcome: "loaded" },
      lastError: null,
    });
    statuses.length = 0;
    expect(await store.check()).toMatchObject({ outcome: "unchanged", version: "v1" });
    expect(statuses).toEqual([304]);
  });

  it("swaps to a new version while a request keeps the model it started with", async () => {
    await putManifest(s3.bucket, [v1]);
    const store = newStore(0); // due on every request
    const held = await store.acquire();
    const before = greedy(held);
    await putManifest(s3.bucket, [v1, v2]);
    const checks: Promise<unknown>[] = [];
    expect((await store.acquire((p) => checks.push(p))).version).toBe("v1"); // the answer does not wait for the check
    await Promise.all(checks);
    expect(store.current()?.version).toBe("v2");
    expect(held.version).toBe("v1");
    expect(greedy(held)).toEqual(before); // the in-flight request's model is untouched
    expect(greedy(store.current()!)).not.toEqual(before);
  });

  it("keeps serving the last good version when a file is corrupt, without downloading it again", async () => {
    await putManifest(s3.bucket, [v1]);
    const store = newStore();
    await store.acquire();
    // A version whose file does not match its checksum (bit rot, or a bad upload).
    const good = tinyModelFile(3);
    const bad = await uploadModel(s3.bucket, good, "v3", config);
    const flipped = good.slice();
    flipped[flipped.length - 1] ^= 0xff;
    await s3.bucket.put(bad.key, flipped);
    await putManifest(s3.bucket, [v1, bad]);
    const report = await store.check();
    expect(report).toMatchObject({ outcome: "failed", version: "v1", error: { kind: "corrupt" } });
    expect(report.error?.message).toMatch(/sha256/);
    expect(store.status()).toMatchObject({
      status: "degraded",
      version: "v1",
      lastError: { kind: "corrupt", version: "v3" },
    });
    statuses.length = 0;
    expect(await store.check()).toMatchObject({ outcome: "failed", version: "v1" });
    expect(statuses).toEqual([304]);
    // A file with the right checksum that is not a model, and a config that disagrees with the file.
    const junk = new TextEncoder().encode("not a safetensors file at all");
    const junkEntry = {
      ...v2,
      version: "v4",
      key: "models/junk",
      sha256: sha256Hex(junk),
      size: junk.byteLength,
    };
    await s3.bucket.put("models/junk", junk);
    await putManifest(s3.bucket, [v1, junkEntry]);
    expect((await store.check()).error?.message).toMatch(/v4 cannot be served/);
    await putManifest(s3.bucket, [v1, { ...v2, version: "v5", config: { ...config, n_layer: 3 } }]);
    expect((await store.check()).error?.message).toMatch(/config differs from the manifest's in n_layer/);
    expect(store.current()?.version).toBe("v1");
  });

  it("keeps serving through a store outage and reports it", async () => {
    await putManifest(s3.bucket, [v1]);
    const store = newStore();
    await store.acquire();
    await s3.stop();
    try {
      expect(await store.check()).toMatchObject({ outcome: "failed", version: "v1", error: { kind: "unavailable" } });
      expect((await store.acquire()).version).toBe("v1");
      expect(store.status()).toMatchObject({ status: "degraded", lastError: { kind: "unavailable" } });
    } finally {
      await s3.start();
    }
    expect(await store.check()).toMatchObject({ outcome: "unchanged" });
    expect(store.status().status).toBe("ok");
  });
});

describe("manifest operations for the admin API", () => {
  const env = (): Env =>
    ({
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: "us-east-1",
      S3_BUCKET: TEST_BUCKET,
      S3_ACCESS_KEY_ID: S3RVER_KEY,
      S3_SECRET_ACCESS_KEY: S3RVER_KEY,
      MANIFEST_KEY: TEST_MANIFEST_KEY,
      MODEL_CHECK_INTERVAL_S: "3600",
      MODEL_NAME: "m",
    }) as unknown as Env;

  it("reads, writes conditionally, and rolls back in one call", async () => {
    await putManifest(s3.bucket, [v1, v2]);
    expect((await checkModelNow(env())).version).toBe("v2");
    const { manifest, etag } = await readManifest(env());
    expect(manifest.current).toBe("v2");
    expect(etag).toMatch(/^"/);

    const rolled = await rollbackTo(env(), "v1", "v2 regressed utility");
    expect(rolled.manifest).toMatchObject({
      current: "v1",
      history: [{ action: "rollback", from: "v2", to: "v1", note: "v2 regressed utility" }],
    });
    expect(rolled.status).toMatchObject({ status: "ok", version: "v1" }); // this isolate reloaded at once
    expect(modelStore(env()).current()?.version).toBe("v1");
    expect((await readManifest(env())).manifest.current).toBe("v1");

    // A writer holding the old ETag loses.
    const write = (m: typeof manifest, expected: string | null) =>
      writeManifest(s3.bucket, TEST_MANIFEST_KEY, m, expected);
    await expect(write({ ...manifest, current: "v2" }, etag)).rejects.toMatchObject({ kind: "conflict" });
    await expect(rollbackTo(env(), "v9", "x")).rejects.toMatchObject({ kind: "not_found" });
    await expect(write({ ...manifest, current: "nope" }, etag)).rejects.toMatchObject({ kind: "corrupt" });
    const fresh = await readManifest(env());
    expect((await write({ ...fresh.manifest, current: "v2" }, fresh.etag)).etag).not.toBe(fresh.etag);
  });

  it("publishes a file as the new current version, uploading it once", async () => {
    await putManifest(s3.bucket, [v1]);
    const bytes = tinyModelFile(7);
    const publish = async (request: Omit<Parameters<typeof publishVersion>[2], "bytes">, file = bytes) => {
      const result = await publishVersion(s3.bucket, TEST_MANIFEST_KEY, { bytes: file, ...request });
      if (result.kind !== "published") throw new Error(`expected a publish, got ${result.kind}`);
      return result;
    };
    const first = await publish({ note: "seed 7" });
    expect(first.entry).toMatchObject({
      version: expect.stringMatching(/^v2-[0-9a-f]{8}$/),
      parent: "v1",
      note: "seed 7",
      size: bytes.byteLength,
    });
    expect((await readManifest(env())).manifest).toMatchObject({
      current: first.entry.version,
      versions: [{ version: "v1" }, { version: first.entry.version }],
    });
    expect((await checkModelNow(env())).version).toBe(first.entry.version);
    const again = await publish({ version: "again" });
    expect(again.entry.key).toBe(first.entry.key); // same content, same object
    expect(again.upload).toBe("present"); // its sha256 checked, not uploaded again
    await expect(publish({ version: "again" })).rejects.toMatchObject({ kind: "corrupt" });
    await expect(publish({}, new TextEncoder().encode("junk"))).rejects.toMatchObject({ kind: "corrupt" });
  });
});
