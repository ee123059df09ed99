/**
 * The daemon's store side against a real s3rver: downloads verified, publishing
 * uploads the weights before the manifest names them, publishing twice is harmless,
 * a stale result is refused, and a changed manifest is a conflict.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import { parseManifest } from "../../shared/protocol/manifest.js";
import { DaemonError } from "../../trainer/daemon/errors.js";
import { datasetKeys, downloadDataset, downloadModel } from "../../trainer/daemon/download.js";
import { modelKey, publish } from "../../trainer/daemon/publisher.js";
import { ModelStoreClient, sha256Hex } from "../../trainer/daemon/s3.js";
import { toJsonl } from "../../trainer/data/index.js";
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
let store: ModelStoreClient;
const config = preset("tiny");
const seed = tinyModelFile(1);
const healed = tinyModelFile(2);

beforeAll(async () => {
  s3 = await startLocalS3();
  store = new ModelStoreClient({
    endpoint: s3.endpoint,
    region: "us-east-1",
    bucket: TEST_BUCKET,
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
    manifestKey: TEST_MANIFEST_KEY,
    datasetPrefix: "datasets/clean",
  });
  await putManifest(s3.bucket, [await uploadModel(s3.bucket, seed, "v1", config)]);
});
afterAll(async () => {
  store?.close();
  await s3?.dispose();
});

describe("downloads", () => {
  it("verify size and sha256 of the serving version", async () => {
    const read = (await store.readManifest())!;
    const { bytes, file } = await downloadModel(store, read.manifest.versions[0]);
    expect(sha256Hex(bytes)).toBe(read.manifest.versions[0].sha256);
    expect(file.config).toEqual(config);
    await expect(downloadModel(store, { ...read.manifest.versions[0], sha256: "f".repeat(64) })).rejects.toThrow(
      /has sha256 .* manifest says f+/,
    );
    await expect(
      downloadModel(store, { ...read.manifest.versions[0], key: "models/missing.safetensors" }),
    ).rejects.toThrow(/missing from the store/);
  });

  it("read the clean dataset, and name it when it is missing", async () => {
    await expect(downloadDataset(store, "datasets/none")).rejects.toThrow(/datasets\/none\/train.jsonl is missing/);
    const keys = datasetKeys("datasets/clean");
    await store.putText(keys.train, toJsonl([{ family: "f", instruction: "Is 3 even or odd?", output: "odd" }]));
    await store.putText(keys.heldOut, toJsonl([{ family: "f", instruction: "Is 4 even or odd?", output: "even" }]));
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
    const first = await publish(store, request);
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
    const manifest = parseManifest(JSON.parse(new TextDecoder().decode((await store.get(TEST_MANIFEST_KEY))!.bytes)));
    expect(manifest.current).toBe(first.entry.version);
    expect(manifest.versions.map((v) => v.version)).toEqual(["v1", first.entry.version]);
    const again = await publish(store, request);
    expect(again).toEqual({ kind: "already", entry: first.entry });
    expect((await store.readManifest())!.manifest.versions).toHaveLength(2);
  });

  it("refuses a stale result and uploads nothing for it", async () => {
    const other = tinyModelFile(3);
    const result = await publish(store, { jobId: 4, base: "v1", bytes: other, note: "job 4", metrics: {} });
    expect(result).toMatchObject({ kind: "stale" });
    expect(await store.head(modelKey(sha256Hex(other)))).toBeNull();
  });

  it("a manifest changed since it was read is a conflict, and the conditional write refuses it", async () => {
    const read = (await store.readManifest())!;
    await store.writeManifest({ ...read.manifest, updatedAt: new Date().toISOString() }, read.etag);
    const err = await store.writeManifest(read.manifest, read.etag).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonError);
    expect((err as DaemonError).kind).toBe("conflict");
  });

  it("refuses bytes the Worker could not load", async () => {
    const current = (await store.readManifest())!.manifest.current;
    await expect(
      publish(store, {
        jobId: 5,
        base: current,
        bytes: new TextEncoder().encode("not a model"),
        note: "",
        metrics: {},
      }),
    ).rejects.toThrow();
    expect((await store.readManifest())!.manifest.current).toBe(current);
  });
});
