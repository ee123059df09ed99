/**
 * The S3 API, signed with SigV4 (aws4fetch): the same requests reach s3rver in
 * tests and R2's S3 endpoint or AWS S3 in production. Path-style URLs
 * (`<endpoint>/<bucket>/<key>`), which all three accept.
 */
import { AwsClient } from "aws4fetch";
import type { Env } from "../env.js";
import { StoreError } from "./errors.js";

/** Where the bucket is and how to sign for it. */
export interface S3Config {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Per-request timeout in ms (default 30 000). */
  timeoutMs?: number;
}

/** Reads and validates the S3 settings of the Worker's environment. */
export function s3ConfigFromEnv(
  env: Pick<Env, "S3_ENDPOINT" | "S3_REGION" | "S3_BUCKET" | "S3_ACCESS_KEY_ID" | "S3_SECRET_ACCESS_KEY">,
): S3Config {
  const missing = (
    ["S3_ENDPOINT", "S3_REGION", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const
  ).filter((k) => !env[k]);
  if (missing.length) throw new StoreError("config", `model store is not configured: set ${missing.join(", ")}`);
  let url: URL;
  try {
    url = new URL(env.S3_ENDPOINT);
  } catch {
    throw new StoreError("config", `S3_ENDPOINT ${JSON.stringify(env.S3_ENDPOINT)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new StoreError("config", `S3_ENDPOINT must be http(s), got ${url.protocol}`);
  return {
    endpoint: env.S3_ENDPOINT.replace(/\/+$/, ""),
    region: env.S3_REGION,
    bucket: env.S3_BUCKET,
    accessKeyId: env.S3_ACCESS_KEY_ID,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
  };
}

/** Result of a GET: the object, "not modified" (conditional GET), or absent. */
export type GetResult =
  | { status: 200; etag: string | null; body: ArrayBuffer }
  | { status: 304; etag: string | null }
  | { status: 404 };

/** One bucket of an S3-compatible store. */
export class S3Bucket {
  private readonly client: AwsClient;
  private readonly timeoutMs: number;

  constructor(readonly config: S3Config) {
    // Few retries: the model store retries at its own interval, and a request must not hang on the store.
    this.client = new AwsClient({
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      service: "s3",
      region: config.region,
      retries: 1,
      initRetryMs: 50,
    });
    this.timeoutMs = config.timeoutMs ?? 30_000;
  }

  /** GETs `key`; with `ifNoneMatch` (an ETag) an unchanged object answers 304 without a body. */
  async get(key: string, options: { ifNoneMatch?: string } = {}): Promise<GetResult> {
    const headers: Record<string, string> = {};
    if (options.ifNoneMatch) headers["if-none-match"] = options.ifNoneMatch;
    const res = await this.send("GET", key, { headers });
    if (res.status === 304) return { status: 304, etag: res.headers.get("etag") ?? options.ifNoneMatch ?? null };
    if (res.status === 404) {
      await res.body?.cancel();
      return { status: 404 };
    }
    if (res.status !== 200) throw await failure(res, "GET", key);
    return { status: 200, etag: res.headers.get("etag"), body: await res.arrayBuffer() };
  }

  /** The object's ETag, or null when it does not exist. */
  async head(key: string): Promise<string | null> {
    const res = await this.send("HEAD", key, {});
    if (res.status === 404) return null;
    if (res.status !== 200) throw await failure(res, "HEAD", key);
    return res.headers.get("etag");
  }

  /**
   * PUTs `body` at `key`; returns the new ETag. With `ifMatch` the store refuses
   * (412, or AWS's 409 for a concurrent write → StoreError "conflict") when the object
   * changed (AWS S3 and R2 honour it; s3rver ignores it).
   */
  async put(
    key: string,
    body: Uint8Array<ArrayBuffer> | string,
    options: { contentType?: string; ifMatch?: string } = {},
  ): Promise<string | null> {
    const headers: Record<string, string> = { "content-type": options.contentType ?? "application/octet-stream" };
    if (options.ifMatch) headers["if-match"] = options.ifMatch;
    const res = await this.send("PUT", key, { headers, body });
    if (res.status === 412 || res.status === 409) {
      // 412: If-Match failed; 409 (AWS): a concurrent conditional write won.
      await res.body?.cancel();
      throw new StoreError("conflict", `${key} changed since it was read (If-Match ${options.ifMatch} failed)`);
    }
    if (res.status !== 200) throw await failure(res, "PUT", key);
    await res.body?.cancel();
    return res.headers.get("etag");
  }

  /** The object's URL (path-style, each key segment encoded). */
  url(key: string): string {
    return `${this.config.endpoint}/${encodeURIComponent(this.config.bucket)}/${key.split("/").map(encodeURIComponent).join("/")}`;
  }

  private async send(
    method: string,
    key: string,
    init: { headers?: Record<string, string>; body?: Uint8Array<ArrayBuffer> | string },
  ): Promise<Response> {
    try {
      return await this.client.fetch(this.url(key), {
        method,
        headers: init.headers,
        body: init.body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new StoreError(
        "unavailable",
        `S3 ${method} ${key} at ${this.config.endpoint} failed: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
}

/** A StoreError for an unexpected S3 answer, with S3's error code when the body has one. */
async function failure(res: Response, method: string, key: string): Promise<StoreError> {
  const text = await res.text().catch(() => "");
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
  const kind = res.status === 403 || res.status === 400 ? "config" : "unavailable";
  return new StoreError(kind, `S3 ${method} ${key}: HTTP ${res.status}${code ? ` ${code}` : ""}`);
}
