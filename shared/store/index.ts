/**
 * The model store, one for the Worker, the trainer and the local tools: an S3 bucket
 * (aws4fetch: Node and workerd) holding the manifest, content-addressed model files and
 * the clean dataset. See docs/worker-serving.md (model store) and docs/operations.md.
 */
export { readExactly } from "./body.js";
export { downloadModelFile, verifyModelFile } from "./download.js";
export { StoreError, type StoreErrorKind } from "./errors.js";
export { datasetKeys, DEFAULT_DATASET_PREFIX, DEFAULT_MANIFEST_KEY, modelKey } from "./keys.js";
export { readManifest, writeManifest, type StoredManifest } from "./manifest.js";
export {
  findJobVersion,
  jobVersionId,
  nextVersionId,
  planPublish,
  versionId,
  type ManifestPlan,
  type PublishLineage,
} from "./plan.js";
export {
  publishVersion,
  putImmutable,
  type PublishRequest,
  type PublishResult,
  type UploadOutcome,
} from "./publish.js";
export {
  MAX_HISTORY,
  pointCurrentAt,
  rollbackManifest,
  type ManifestChange,
  type ManifestWithHistory,
} from "./rollback.js";
export {
  S3Bucket,
  s3ConfigFromVars,
  type GetResult,
  type ObjectInfo,
  type PutCondition,
  type PutOptions,
  type S3Config,
  type S3Vars,
} from "./s3.js";
export { md5Base64, sha256Hex } from "./sha256.js";
