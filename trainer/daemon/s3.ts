/**
 * The model store as the trainer sees it, through @aws-sdk/client-s3: the same
 * requests reach s3rver locally and R2's S3 API or AWS S3 in production
 * (path-style URLs; checksums only when required, which every S3-compatible store accepts).
 */
import { createHash } from "node:crypto";
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { parseManifest, type ModelManifest } from "../../shared/protocol/manifest.js";
import { DaemonError } from "./errors.js";
import type { StoreOptions } from "./options.js";

/** An object's bytes and ETag. */
export interface StoredObject {
  bytes: Uint8Array;
  etag: string | null;
}

/** The manifest with the ETag it was read at (for the conditional write). */
export interface ManifestRead {
  manifest: ModelManifest;
  etag: string | null;
}

/** Hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** One bucket of an S3-compatible store. */
export class ModelStoreClient {
  private readonly s3: S3Client;

  constructor(readonly options: StoreOptions) {
    this.s3 = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: true,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
    });
  }

  /** GETs `key`; null when it does not exist. */
  async get(key: string): Promise<StoredObject | null> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      const bytes = await res.Body!.transformToByteArray();
      return { bytes, etag: res.ETag ?? null };
    } catch (e) {
      if (status(e) === 404) return null;
      throw storeError("GET", key, e);
    }
  }

  /** The object's size and ETag, or null when it does not exist. */
  async head(key: string): Promise<{ size: number; etag: string | null } | null> {
    try {
      const res = await this.s3.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return { size: res.ContentLength ?? -1, etag: res.ETag ?? null };
    } catch (e) {
      if (status(e) === 404) return null;
      throw storeError("HEAD", key, e);
    }
  }

  /**
   * Stores immutable content at `key` (a content address): skipped when an object of
   * the same size is already there, else PUT with Content-MD5 (the store rejects a
   * corrupted upload), then checked with a HEAD. A PUT is atomic: readers see the
   * whole object or none. Returns whether it uploaded.
   */
  async putImmutable(key: string, bytes: Uint8Array): Promise<"uploaded" | "present"> {
    const existing = await this.head(key);
    if (existing && existing.size === bytes.byteLength) return "present";
    const md5 = createHash("md5").update(bytes).digest("base64");
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          Body: bytes,
          ContentMD5: md5,
          ContentType: "application/octet-stream",
        }),
      );
    } catch (e) {
      throw storeError("PUT", key, e);
    }
    const after = await this.head(key);
    if (!after || after.size !== bytes.byteLength)
      throw new DaemonError(
        "store",
        `PUT ${key}: the store holds ${after ? `${after.size} bytes` : "nothing"}, expected ${bytes.byteLength}`,
      );
    return "uploaded";
  }

  /** Reads and validates the manifest; null when there is none yet. */
  async readManifest(): Promise<ManifestRead | null> {
    const key = this.options.manifestKey;
    const obj = await this.get(key);
    if (!obj) return null;
    try {
      return { manifest: parseManifest(JSON.parse(new TextDecoder().decode(obj.bytes))), etag: obj.etag };
    } catch (e) {
      throw new DaemonError("corrupt", `manifest ${key} is invalid: ${(e as Error).message}`);
    }
  }

  /**
   * Writes the manifest only if it is still the one read (`ifMatch`, or absent when
   * `ifMatch` is null): If-Match / If-None-Match on the PUT, enforced by AWS S3 and
   * R2; a HEAD just before narrows the race on stores that ignore them (s3rver).
   * Throws DaemonError "conflict" when it changed. Returns the new ETag.
   */
  async writeManifest(manifest: ModelManifest, ifMatch: string | null): Promise<string | null> {
    const key = this.options.manifestKey;
    parseManifest(manifest);
    const now = await this.head(key);
    if ((now?.etag ?? null) !== ifMatch)
      throw new DaemonError(
        "conflict",
        `manifest changed since it was read (ETag ${now?.etag ?? "none"}, expected ${ifMatch ?? "none"})`,
      );
    const body = JSON.stringify(manifest, null, 2);
    try {
      const res = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          Body: body,
          ContentType: "application/json",
          ...(ifMatch === null ? { IfNoneMatch: "*" } : { IfMatch: ifMatch }),
        }),
      );
      return res.ETag ?? null;
    } catch (e) {
      const code = status(e);
      if (code === 412 || code === 409)
        throw new DaemonError(
          "conflict",
          `manifest changed since it was read (conditional PUT refused: HTTP ${code})`,
          { cause: e },
        );
      throw storeError("PUT", key, e);
    }
  }

  /** Stores a small JSON or text object (datasets when seeding). */
  async putText(key: string, text: string, contentType = "application/x-ndjson"): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: text, ContentType: contentType }),
      );
    } catch (e) {
      throw storeError("PUT", key, e);
    }
  }

  /** Closes the HTTP agent. */
  close(): void {
    this.s3.destroy();
  }
}

function status(e: unknown): number | undefined {
  if (e instanceof S3ServiceException) return e.$metadata.httpStatusCode;
  return undefined;
}

function storeError(method: string, key: string, e: unknown): DaemonError {
  const code = status(e);
  const name = e instanceof Error ? e.name : "error";
  return new DaemonError(
    "store",
    `S3 ${method} ${key}: ${code ? `HTTP ${code} ` : ""}${name}: ${(e as Error).message}`,
    { cause: e },
  );
}
