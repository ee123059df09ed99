/**
 * Publishing a healed model, in the order that keeps the store consistent:
 * 1. the weights under their immutable content address (`models/<sha256>.safetensors`);
 * 2. the manifest, conditionally on the one read, with the new version current and
 *    every earlier version kept. A manifest therefore never names a missing or partial
 *    file, and a job that publishes twice finds its version and writes nothing.
 */
import { decodeModel } from "../../shared/model/file.js";
import type { ManifestVersion } from "../../shared/protocol/manifest.js";
import { DaemonError } from "./errors.js";
import { jobVersionId, planManifest } from "./manifest-update.js";
import { sha256Hex, type ModelStoreClient } from "./s3.js";

/** What publishing did. */
export type PublishResult =
  | { kind: "published"; entry: ManifestVersion; upload: "uploaded" | "present" }
  | { kind: "already"; entry: ManifestVersion }
  | { kind: "stale"; current: string };

/** The content address of a model file. */
export function modelKey(sha256: string): string {
  return `models/${sha256}.safetensors`;
}

/** What is being published. */
export interface PublishRequest {
  jobId: number;
  /** The version the weights were healed from; the manifest must still serve it. */
  base: string;
  bytes: Uint8Array;
  note: string;
  metrics: Record<string, number>;
  /** Called right before the manifest is written (the runner renews and checks the lease there). */
  beforeManifestWrite?: () => Promise<void>;
}

/** The version id `bytes` will get for `jobId`. */
export function plannedVersion(jobId: number, bytes: Uint8Array): string {
  return jobVersionId(jobId, sha256Hex(bytes));
}

/** Publishes; retries the manifest write when another writer got in between (up to `attempts`). */
export async function publish(
  store: ModelStoreClient,
  request: PublishRequest,
  attempts = 4,
  now: () => Date = () => new Date(),
): Promise<PublishResult> {
  const config = decodeModel(request.bytes).config; // refuse to publish what the Worker could not load
  const sha256 = sha256Hex(request.bytes);
  const key = modelKey(sha256);
  const first = await store.readManifest();
  const early = planManifest(
    first?.manifest ?? null,
    request.base,
    placeholder(request, sha256, key, config, now()),
    request.jobId,
    now(),
  );
  if (early.kind === "already") return early;
  if (early.kind === "stale") return early;
  const upload = await store.putImmutable(key, request.bytes);
  for (let attempt = 1; ; attempt++) {
    const read = await store.readManifest();
    const plan = planManifest(
      read?.manifest ?? null,
      request.base,
      placeholder(request, sha256, key, config, now()),
      request.jobId,
      now(),
    );
    if (plan.kind !== "write") return plan;
    await request.beforeManifestWrite?.();
    try {
      await store.writeManifest(plan.manifest, read?.etag ?? null);
      return { kind: "published", entry: plan.manifest.versions[plan.manifest.versions.length - 1], upload };
    } catch (e) {
      if (!(e instanceof DaemonError && e.kind === "conflict") || attempt >= attempts) throw e;
    }
  }
}

function placeholder(
  request: PublishRequest,
  sha256: string,
  key: string,
  config: ManifestVersion["config"],
  at: Date,
): ManifestVersion {
  return {
    version: jobVersionId(request.jobId, sha256),
    key,
    sha256,
    size: request.bytes.byteLength,
    config,
    createdAt: at.toISOString(),
    note: request.note,
    metrics: request.metrics,
  };
}
