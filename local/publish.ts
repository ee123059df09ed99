/**
 * Publishes a model file to the store the Worker reads (local s3rver by default,
 * R2/S3 with the S3_* variables set), as the manifest's new current version.
 *
 *   npx tsx local/publish.ts models/demo-base.safetensors [--version demo-1] [--note "seed"]
 *
 * Settings: S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY,
 * MANIFEST_KEY from the environment; defaults match wrangler.toml's local s3rver.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_MANIFEST_KEY, publishVersion, S3Bucket, s3ConfigFromVars } from "../shared/store/index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { version: { type: "string" }, note: { type: "string" } },
});
if (positionals.length !== 1) {
  console.error("usage: tsx local/publish.ts <model.safetensors> [--version ID] [--note TEXT]");
  process.exit(2);
}
const env = process.env;
const bucket = new S3Bucket(
  s3ConfigFromVars({
    S3_ENDPOINT: env.S3_ENDPOINT ?? "http://127.0.0.1:4568",
    S3_REGION: env.S3_REGION ?? "us-east-1",
    S3_BUCKET: env.S3_BUCKET ?? "sande",
    S3_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID ?? "S3RVER",
    S3_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY ?? "S3RVER",
  }),
);
const result = await publishVersion(bucket, env.MANIFEST_KEY ?? DEFAULT_MANIFEST_KEY, {
  bytes: new Uint8Array(readFileSync(positionals[0])),
  version: values.version,
  note: values.note,
});
if (result.kind !== "published") throw new Error(`nothing published: ${result.kind}`);
const { entry } = result;
console.log(
  `published ${entry.version}: ${entry.key} (${entry.size} bytes, sha256 ${entry.sha256}, ${result.upload}); it is now current`,
);
