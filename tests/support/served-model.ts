/**
 * A real model served without a store, for tests that drive the app with app.request:
 * the tiny model file of tests/support/s3.ts, verified and built as the Worker builds it.
 */
import { preset } from "../../shared/model/config.js";
import { sha256Hex } from "../../shared/store/index.js";
import type { Env } from "../../worker/env.js";
import { buildModel } from "../../worker/model/load.js";
import { ModelStore, type LoadedModel, type ServedModels } from "../../worker/model/index.js";
import { S3Bucket } from "../../shared/store/index.js";
import { tinyModelFile } from "./s3.js";

/** The env app.request needs: the served model's name. */
export const TEST_ENV = { MODEL_NAME: "m" } as unknown as Env;

/** The tiny model of `seed`, loaded as version "v1", and a ServedModels that always serves it. */
export async function servedTinyModel(seed = 4): Promise<{ loaded: LoadedModel; models: ServedModels }> {
  const bytes = tinyModelFile(seed);
  const loaded = await buildModel(
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
  const idle = new ModelStore({ bucket: unusedBucket(), manifestKey: "m", checkIntervalMs: 60_000 });
  return { loaded, models: { acquire: async () => loaded, current: () => loaded, status: () => idle.status() } };
}

function unusedBucket(): S3Bucket {
  return new S3Bucket({
    endpoint: "http://127.0.0.1:9",
    region: "us-east-1",
    bucket: "b",
    accessKeyId: "k",
    secretAccessKey: "s",
    timeoutMs: 2_000,
  });
}
