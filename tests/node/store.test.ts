/**
 * The model store against a real s3rver: verified downloads (the size checked before the
 * body is read), publishing the weights before the manifest names them, publishing twice
 * is harmless, a stale result is refused, a changed manifest is a conflict, an object at
 * a content address is trusted only when its sha256 matches, and a rollback never writes
 * the manifest unconditionally. The daemon's clean-dataset reading is here too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import { parseManifest } from "../../shared/protocol/manifest.js";
import {
  datasetKeys,
  downloadModelFile,
  modelKey,
  publishVersion,
  putImmutable,
  readManifest,
  rollbackManifest,
  S3Bucket,
  sha256Hex,
  StoreError,
  writeManifest,
} from "../../shared/store/index.js";
import { downloadDataset } from "../../trainer/daemon/dataset.js";
import { toJsonl } from "../../trainer/data/index.js";
import { startHeaderStrippingProxy } from "../support/s3-proxy.js";
import {
  putManifest,
  startLocalS3,
  tinyModelFile,
  uploadModel,
  S3RVER_KEY,
  TEST_BUCKET,
  TEST_MANIFEST_KEY,
  type LocalS3,
} from "../support/s3.js";

let s3: LocalS3;
let store: S3Bucket;
const config = preset("tiny");
const seed = tinyModelFile(1);
const healed = tinyModelFile(2);

beforeAll(async () => {
  s3 = await startLocalS3();
  store = s3.bucket;
  await putManifest(s3.bucket, [await uploadModel(s3.bucket, seed, "v1", config)]);
});
afterAll(async () => {
  await s3?.dispose();
});

describe("downloads", () => {
  it("verify size and sha256 of the serving version", async () => {
    const read = (await readManifest(store, TEST_MANIFEST_KEY))!;
    const { bytes, file } = await downloadModelFile(store, read.manifest.versions[0]);
    expect(sha256Hex(bytes)).toBe(read.manifest.versions[0].sha256);
    expect(file.config).toEqual(config);
    await expect(downloadModelFile(store, { ...read.manifest.versions[0], sha256: "f".repeat(64) })).rejects.toThrow(
      /has sha256 .* manifest says f+/,
    );
    await expect(
      downloadModelFile(store, { ...read.manifest.versions[0], key: "models/missing.safetensors" }),
    ).rejects.toThrow(/missing from the store/);
  });

  it("refuse a file whose Content-Length differs from the manifest's size before reading its body", async () => {
    const entry = (await readManifest(store, TEST_MANIFEST_KEY))!.manifest.versions[0];
    const err = await downloadModelFile(store, { ...entry, size: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({
      kind: "corrupt",
      message: `${entry.key} is ${seed.byteLength} bytes (Content-Length), manifest says 100`,
    });
  });

  it("read the clean dataset, and name it when it is missing", async () => {
    await expect(downloadDataset(store, "datasets/none")).rejects.toThrow(/datasets\/none\/train.jsonl is missing/);
    const keys = datasetKeys("datasets/clean");
    await store.put(keys.train, toJsonl([{ family: "f", instruction: "Is 3 even or odd?", output: "odd" }]));
    await store.put(keys.heldOut, toJsonl([{ family: "f", instruction: "Is 4 even or odd?", output: "even" }]));
    expect(await downloadDataset(store, "datasets/clean")).toEqual({
      train: [{ family: "f", instruction: "Is 3 even or odd?", output: "odd" }],
      heldOut: [{ family: "f", instruction: "Is 4 even or odd?", output: "even" }],
    });
  });
});

describe("publishing", () => {
  it("uploads the weights under their content address, then makes the version current; twice is harmless", async () => {
    const checkedAt: string[] = [];
    const request = {
      jobId: 3,
      base: "v1",
      bytes: healed,
      note: "job 3",
      metrics: { asrAfter: 0 },
      beforeManifestWrite: async () => {
        // The manifest is written only after the weights are complete in the store.
        const head = await store.head(modelKey(sha256Hex(healed)));
        checkedAt.push(`${head?.size}`);
      },
    };
    const first = await publishVersion(store, TEST_MANIFEST_KEY, request);
    expect(first.kind).toBe("published");
    if (first.kind !== "published") return;
    expect(first.upload).toBe("uploaded");
    expect(checkedAt).toEqual([String(healed.byteLength)]);
    expect(first.entry).toMatchObject({
      version: `job3-${sha256Hex(healed).slice(0, 8)}`,
      parent: "v1",
      key: modelKey(sha256Hex(healed)),
      size: healed.byteLength,
      metrics: { asrAfter: 0, jobId: 3 },
    });
    const got = await store.get(TEST_MANIFEST_KEY);
    if (got.status !== 200) throw new Error("the manifest is gone");
    const manifest = parseManifest(JSON.parse(new TextDecoder().decode(got.body)));
    expect(manifest.current).toBe(first.entry.version);
    expect(manifest.versions.map((v) => v.version)).toEqual(["v1", first.entry.version]);
    const again = await publishVersion(store, TEST_MANIFEST_KEY, request);
    expect(again).toEqual({ kind: "already", entry: first.entry });
    expect((await readManifest(store, TEST_MANIFEST_KEY))!.manifest.versions).toHaveLength(2);
  });

  it("refuses a stale result and uploads nothing for it", async () => {
    const other = tinyModelFile(3);
    const result = await publishVersion(store, TEST_MANIFEST_KEY, {
      jobId: 4,
      base: "v1",
      bytes: other,
      note: "job 4",
      metrics: {},
    });
    expect(result).toMatchObject({ kind: "stale" });
    expect(await store.head(modelKey(sha256Hex(other)))).toBeNull();
  });

  it("a manifest changed since it was read is a conflict, and the conditional write refuses it", async () => {
    const read = (await readManifest(store, TEST_MANIFEST_KEY))!;
    await writeManifest(store, TEST_MANIFEST_KEY, { ...read.manifest, updatedAt: new Date().toISOString() }, read.etag);
    const err = await writeManifest(store, TEST_MANIFEST_KEY, read.manifest, read.etag).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).kind).toBe("conflict");
    // "There was no manifest" is a condition too (If-None-Match: *): it loses to the one there now.
    await expect(writeManifest(store, TEST_MANIFEST_KEY, read.manifest, null)).rejects.toMatchObject({
      kind: "conflict",
      message: expect.stringMatching(/expected absent/),
    });
  });

  it("refuses bytes the Worker could not load", async () => {
    const current = (await readManifest(store, TEST_MANIFEST_KEY))!.manifest.current;
    const refused = await publishVersion(store, TEST_MANIFEST_KEY, {
      jobId: 5,
      base: current,
      bytes: new TextEncoder().encode("not a model"),
      note: "",
      metrics: {},
    }).catch((e: unknown) => e);
    // The store's own error, saying why: the bytes are not a safetensors file at all.
    expect(refused).toBeInstanceOf(StoreError);
    expect(refused).toMatchObject({
      kind: "corrupt",
      message: expect.stringMatching(
        /^not a servable model file: header length \d+ is over the \d+-byte limit \(not a safetensors file\?\)$/,
      ),
    });
    expect((await readManifest(store, TEST_MANIFEST_KEY))!.manifest.current).toBe(current);
  });

  it("trusts an object at a content address only when its sha256 matches, and replaces one that does not", async () => {
    const good = tinyModelFile(8);
    const sha256 = sha256Hex(good);
    const key = modelKey(sha256);
    const tampered = good.slice();
    tampered[tampered.length - 1] ^= 0xff; // same size, other bytes
    await store.put(key, tampered);
    expect(await putImmutable(store, key, good, sha256)).toBe("replaced");
    const now = await store.get(key);
    expect(now.status === 200 && sha256Hex(new Uint8Array(now.body))).toBe(sha256);
    expect(await putImmutable(store, key, good, sha256)).toBe("present");
  });
});

describe("rolling back", () => {
  it("writes conditionally on the ETag read", async () => {
    const before = (await readManifest(store, TEST_MANIFEST_KEY))!;
    const rolled = await rollbackManifest(store, TEST_MANIFEST_KEY, "v1", "back to the seed");
    expect(rolled.manifest).toMatchObject({ current: "v1", history: [{ from: before.manifest.current, to: "v1" }] });
    expect(rolled.etag).not.toBe(before.etag);
  });

  it("refuses to write when the store answers without an ETag (it would be an unconditional write)", async () => {
    const proxy = await startHeaderStrippingProxy(s3.endpoint, ["etag"]);
    try {
      const noEtags = new S3Bucket({
        endpoint: proxy.endpoint,
        region: "us-east-1",
        bucket: TEST_BUCKET,
        accessKeyId: S3RVER_KEY,
        secretAccessKey: S3RVER_KEY,
      });
      const before = await store.get(TEST_MANIFEST_KEY);
      expect((await readManifest(noEtags, TEST_MANIFEST_KEY))?.etag).toBeNull();
      await expect(rollbackManifest(noEtags, TEST_MANIFEST_KEY, "v1", "x")).rejects.toMatchObject({
        kind: "unavailable",
        message: expect.stringMatching(/without an ETag.*refusing to write it unconditionally/),
      });
      const after = await store.get(TEST_MANIFEST_KEY);
      expect(after.status === 200 && after.etag).toBe(before.status === 200 && before.etag); // untouched
    } finally {
      await proxy.close();
    }
  });
});
