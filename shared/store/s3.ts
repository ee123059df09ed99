/**
 * The one S3 client, signed with SigV4 by aws4fetch (fetch only: it runs in Node and
 * in workerd). The same requests reach s3rver locally and R2's S3 API or AWS S3 in
 * production. Path-style URLs (`<endpoint>/<bucket>/<key>`), which all three accept.
 */
import { AwsClient } from "aws4fetch";
import { readExactly } from "./body.js";
import { StoreError } from "./errors.js";

/** Where the bucket is and how to sign for it. */
export interface S3Config {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Per-request timeout in ms, body included (default 30 000). */
  timeoutMs?: number;
  /** Retries of a request the store answered with 5xx or 429 (default 1). */
  retries?: number;
}

/** The S3 settings as environment variables (the Worker's `[vars]` and secrets, or a shell's). */
export interface S3Vars {
  S3_ENDPOINT?: string;
  S3_REGION?: string;
  S3_BUCKET?: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
}

/** Reads and validates S3 settings from variables. Throws StoreError "config" naming what is missing or wrong. */
export function s3ConfigFromVars(vars: S3Vars): S3Config {
  const names = ["S3_ENDPOINT", "S3_REGION", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const;
  const missing = names.filter((k) => !vars[k]);
  if (missing.length) throw new StoreError("config", `model store is not configured: set ${missing.join(", ")}`);
  const endpoint = vars.S3_ENDPOINT!;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new StoreError("config", `S3_ENDPOINT ${JSON.stringify(endpoint)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new StoreError("config", `S3_ENDPOINT must be http(s), got ${url.protocol}`);
  return {
    endpoint: endpoint.replace(/\/+$/, ""),
    region: vars.S3_REGION!,
    bucket: vars.S3_BUCKET!,
    accessKeyId: vars.S3_ACCESS_KEY_ID!,
    secretAccessKey: vars.S3_SECRET_ACCESS_KEY!,
  };
}

/** Result of a GET: the object, "not modified" (conditional GET), or absent. */
export type GetResult =
  | { status: 200; etag: string | null; body: ArrayBuffer }
  | { status: 304; etag: string | null }
  | { status: 404 };

/** What a HEAD tells about an object. */
export interface ObjectInfo {
  etag: string | null;
  /** Content-Length; -1 when the store did not say. */
  size: number;
}

/**
 * The condition of a PUT: `ifMatch` (an ETag: only over that version of the object) or
 * `ifNoneMatch: "*"` (only when there is no object). AWS S3 and R2 enforce them; s3rver ignores them.
 */
export type PutCondition = { ifMatch: string } | { ifNoneMatch: "*" };

/** Options of a PUT. */
export interface PutOptions {
  contentType?: string;
  /** Base64 MD5 of the body: the store refuses a body that arrives different. */
  contentMd5?: string;
  condition?: PutCondition;
}

/** One bucket of an S3-compatible store. */
export class S3Bucket {
  private readonly client: AwsClient;
  private readonly timeoutMs: number;

  constructor(readonly config: S3Config) {
    // Few retries by default: the Worker retries at its own interval, and a request must not hang on the store.
    this.client = new AwsClient({
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      service: "s3",
      region: config.region,
      retries: config.retries ?? 1,
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
    return { status: 200, etag: res.headers.get("etag"), body: await this.read("GET", key, () => res.arrayBuffer()) };
  }

  /**
   * GETs `key`, which must be exactly `size` bytes: the Content-Length is checked before the
   * body is read, and reading stops past `size` (StoreError "corrupt"). Null when absent.
   */
  async getExactly(key: string, size: number): Promise<Uint8Array<ArrayBuffer> | null> {
    const res = await this.send("GET", key, {});
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (res.status !== 200) throw await failure(res, "GET", key);
    return this.read("GET", key, () => readExactly(res, size, key));
  }

  /** The object's ETag and size, or null when it does not exist. */
  async head(key: string): Promise<ObjectInfo | null> {
    const res = await this.send("HEAD", key, {});
    if (res.status === 404) return null;
    if (res.status !== 200) throw await failure(res, "HEAD", key);
    const length = res.headers.get("content-length");
    return { etag: res.headers.get("etag"), size: length === null ? -1 : Number(length) };
  }

  /**
   * PUTs `body` at `key`; returns the new ETag. A failed condition (412, or AWS's 409 for a
   * concurrent conditional write) is StoreError "conflict". A PUT is atomic: readers see the
   * whole object or the old one.
   */
  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<string | null> {
    const headers: Record<string, string> = { "content-type": options.contentType ?? "application/octet-stream" };
    if (options.contentMd5) headers["content-md5"] = options.contentMd5;
    const condition = options.condition;
    if (condition && "ifMatch" in condition) headers["if-match"] = condition.ifMatch;
    if (condition && "ifNoneMatch" in condition) headers["if-none-match"] = condition.ifNoneMatch;
    const res = await this.send("PUT", key, { headers, body: typeof body === "string" ? body : ownBuffer(body) });
    if (res.status === 412 || res.status === 409) {
      await res.body?.cancel();
      const expected = condition && "ifMatch" in condition ? `If-Match ${condition.ifMatch}` : "If-None-Match *";
      throw new StoreError("conflict", `${key} changed since it was read (${expected} failed: HTTP ${res.status})`);
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
      throw unavailable(method, key, this.config.endpoint, e);
    }
  }

  /** Reads a body; a transport failure meanwhile (timeout, dropped connection) is StoreError "unavailable". */
  private async read<T>(method: string, key: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw unavailable(method, key, this.config.endpoint, e);
    }
  }
}

/** `bytes` over a plain ArrayBuffer (what fetch takes as a body), copied only when it is not. */
function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

function unavailable(method: string, key: string, endpoint: string, e: unknown): StoreError {
  return new StoreError("unavailable", `S3 ${method} ${key} at ${endpoint} failed: ${(e as Error).message}`, {
    cause: e,
  });
}

/** A StoreError for an unexpected S3 answer, with S3's error code when the body has one. */
async function failure(res: Response, method: string, key: string): Promise<StoreError> {
  const text = await res.text().catch(() => "");
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
  const kind = res.status === 403 || res.status === 400 ? "config" : "unavailable";
  return new StoreError(kind, `S3 ${method} ${key}: HTTP ${res.status}${code ? ` ${code}` : ""}`);
}
