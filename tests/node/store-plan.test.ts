/**
 * The model store's pure parts, without servers: version ids, the manifest edits a
 * publish and a rollback make, the bucket layout, and the size-checked body reader.
 */
import { describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import type { ManifestVersion, ModelManifest } from "../../shared/protocol/manifest.js";
import {
  datasetKeys,
  findJobVersion,
  jobVersionId,
  modelKey,
  nextVersionId,
  planPublish,
  pointCurrentAt,
  readExactly,
  StoreError,
  versionId,
} from "../../shared/store/index.js";

describe("the manifest edit", () => {
  const config = preset("tiny");
  const v = (version: string, sha: string, extra: Partial<ManifestVersion> = {}): ManifestVersion => ({
    version,
    key: `models/${sha}.safetensors`,
    sha256: sha,
    size: 100,
    config,
    createdAt: "2026-01-01T00:00:00.000Z",
    ...extra,
  });
  const shaA = "a".repeat(64);
  const shaB = "b".repeat(64);
  const manifest: ModelManifest & { history: unknown[] } = {
    format: "sande-manifest/1",
    current: "v1",
    versions: [v("v0", "0".repeat(64)), v("v1", shaA)],
    updatedAt: "x",
    history: [{ action: "rollback" }],
  };
  const now = new Date("2026-02-02T00:00:00.000Z");

  it("appends the job's version as current, keeps earlier versions and the history", () => {
    const entry = v(jobVersionId(7, shaB), shaB, { metrics: { asrAfter: 0 } });
    const plan = planPublish(manifest, entry, { base: "v1", jobId: 7 }, now);
    expect(plan.kind).toBe("write");
    if (plan.kind !== "write") return;
    expect(plan.manifest.current).toBe("job7-bbbbbbbb");
    expect(plan.manifest.versions.map((x) => x.version)).toEqual(["v0", "v1", "job7-bbbbbbbb"]);
    expect(plan.manifest.versions[2]).toMatchObject({ parent: "v1", metrics: { asrAfter: 0, jobId: 7 } });
    expect((plan.manifest as typeof manifest).history).toEqual([{ action: "rollback" }]);
    expect(plan.manifest.updatedAt).toBe(now.toISOString());
    expect(manifest.versions).toHaveLength(2); // the input is not changed
  });

  it("is idempotent by job: a second publish finds the first", () => {
    const entry = v(jobVersionId(7, shaB), shaB);
    const plan = planPublish(manifest, entry, { base: "v1", jobId: 7 }, now);
    if (plan.kind !== "write") throw new Error("expected a write");
    expect(findJobVersion(plan.manifest, 7)?.version).toBe("job7-bbbbbbbb");
    expect(planPublish(plan.manifest, entry, { base: "v1", jobId: 7 }, now)).toEqual({
      kind: "already",
      entry: plan.manifest.versions[2],
    });
    // even with other weights (a retrained attempt) and after a rollback moved current away
    const rolledBack = { ...plan.manifest, current: "v1" };
    expect(planPublish(rolledBack, v(jobVersionId(7, shaA), shaA), { base: "v1", jobId: 7 }, now).kind).toBe("already");
  });

  it("refuses a stale result: the manifest serves another version than the one healed", () => {
    expect(planPublish(manifest, v("job8-bbbbbbbb", shaB), { base: "v0", jobId: 8 }, now)).toEqual({
      kind: "stale",
      current: "v1",
    });
    expect(planPublish(null, v("job8-bbbbbbbb", shaB), { base: "v0", jobId: 8 }, now).kind).toBe("stale");
  });
});

describe("version ids: one scheme, <origin>-<sha256[0:8]>", () => {
  const sha = "0123456789abcdef".repeat(4);
  const one = (version: string): ModelManifest => ({
    format: "sande-manifest/1",
    current: version,
    versions: [
      { version, key: modelKey(sha), sha256: sha, size: 1, config: preset("tiny"), createdAt: "2026-01-01T00:00:00Z" },
    ],
    updatedAt: "2026-01-01T00:00:00Z",
  });

  it("names a job's result and a file published by hand the same way", () => {
    expect(versionId("v3", sha)).toBe("v3-01234567");
    expect(jobVersionId(12, sha)).toBe("job12-01234567");
    expect(nextVersionId(null, sha)).toBe("v1-01234567");
    expect(nextVersionId(one("seed"), sha)).toBe("v2-01234567");
  });

  it("refuses an origin or a digest that would make an ambiguous id", () => {
    expect(() => versionId("V3", sha)).toThrow(/origin "V3"/);
    expect(() => versionId("v-3", sha)).toThrow(/origin/);
    expect(() => versionId("v3", "abc")).toThrow(/hex sha256/);
  });
});

describe("publishing by hand and rolling back (pure edits)", () => {
  const config = preset("tiny");
  const sha = "c".repeat(64);
  const entry = (version: string): ManifestVersion => ({
    version,
    key: modelKey(sha),
    sha256: sha,
    size: 10,
    config,
    createdAt: "2026-01-01T00:00:00.000Z",
  });
  const now = new Date("2026-03-03T00:00:00.000Z");

  it("creates the first manifest, then appends with the previous current as parent", () => {
    const first = planPublish(null, entry("seed"), {}, now);
    if (first.kind !== "write") throw new Error("expected a write");
    expect(first.manifest).toEqual({
      format: "sande-manifest/1",
      current: "seed",
      versions: [entry("seed")],
      updatedAt: now.toISOString(),
    });
    const second = planPublish(first.manifest, entry("v2-cccccccc"), {}, now);
    if (second.kind !== "write") throw new Error("expected a write");
    expect(second.entry).toEqual({ ...entry("v2-cccccccc"), parent: "seed" });
    expect(second.manifest.current).toBe("v2-cccccccc");
    const taken = (() => {
      try {
        planPublish(second.manifest, entry("seed"), {}, now);
      } catch (e) {
        return e;
      }
    })();
    expect(taken).toBeInstanceOf(StoreError);
    expect(taken).toMatchObject({
      kind: "corrupt",
      message: expect.stringMatching(/"seed" is already in the manifest/),
    });
  });

  it("points current at an earlier version and records why, or names the unknown version", () => {
    const published = planPublish(null, entry("v1"), {}, now);
    if (published.kind !== "write") throw new Error("expected a write");
    const two = planPublish(published.manifest, entry("v2"), {}, now);
    if (two.kind !== "write") throw new Error("expected a write");
    const rolled = pointCurrentAt(two.manifest, "v1", "v2 regressed", now);
    expect(rolled).toMatchObject({
      current: "v1",
      versions: [{ version: "v1" }, { version: "v2" }],
      history: [{ at: now.toISOString(), action: "rollback", from: "v2", to: "v1", note: "v2 regressed" }],
    });
    expect(() => pointCurrentAt(two.manifest, "v9", "x")).toThrow(/"v9" is not in the manifest \(known: v1, v2\)/);
  });
});

describe("the bucket layout", () => {
  it("addresses model files by content and the dataset by prefix", () => {
    expect(modelKey("e".repeat(64))).toBe(`models/${"e".repeat(64)}.safetensors`);
    expect(() => modelKey("../manifest.json")).toThrow(/hex sha256/);
    expect(datasetKeys("datasets/clean/")).toEqual({
      train: "datasets/clean/train.jsonl",
      heldOut: "datasets/clean/held-out.jsonl",
    });
    expect(() => datasetKeys("/")).toThrow(/empty/);
  });
});

describe("reading a body of known size", () => {
  /** A body that makes `chunk`-byte pieces only when read (no read-ahead), counting what it made. */
  function countingBody(chunk: number, total = Infinity) {
    const made = { bytes: 0 };
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (made.bytes >= total) return controller.close();
          const n = Math.min(chunk, total - made.bytes);
          controller.enqueue(new Uint8Array(n).fill(7));
          made.bytes += n;
        },
      },
      { highWaterMark: 0 },
    );
    return { stream, made };
  }

  it("refuses a Content-Length other than the manifest's size without reading the body", async () => {
    const { stream, made } = countingBody(1024);
    const res = new Response(stream, { headers: { "content-length": "999999" } });
    await expect(readExactly(res, 10, "models/x")).rejects.toMatchObject({
      kind: "corrupt",
      message: "models/x is 999999 bytes (Content-Length), manifest says 10",
    });
    expect(made.bytes).toBe(0);
  });

  it("stops reading a body without Content-Length at the first chunk past the size", async () => {
    const { stream, made } = countingBody(4);
    await expect(readExactly(new Response(stream), 10, "models/x")).rejects.toThrow(
      "models/x is more than 10 bytes, manifest says 10",
    );
    expect(made.bytes).toBe(12);
  });

  it("returns a body of exactly the size, and names a short one", async () => {
    const exact = countingBody(4, 10);
    expect(await readExactly(new Response(exact.stream), 10, "k")).toEqual(new Uint8Array(10).fill(7));
    const short = countingBody(4, 6);
    await expect(readExactly(new Response(short.stream), 10, "k")).rejects.toThrow("k is 6 bytes, manifest says 10");
  });
});
