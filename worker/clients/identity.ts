/**
 * Middleware: who is asking. Every /v1 request gets a client id (context variable `client`),
 * which the guard stores as a hash and the threshold rule caps, and the rate limit is keyed by:
 * - `key:<id>` for a valid API key, when `CHAT_API_KEYS` is set (then the other routes
 *   answer 401 in OpenAI's error shape without one; the open paths stay open);
 * - else `ip:<address>` from CF-Connecting-IP (an IPv6 address by its /64);
 * - else "anonymous".
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.js";
import { clientKey } from "../dashboard/throttle.js";
import { ApiError } from "../openai/errors.js";
import { ApiKeysError, matchApiKey, parseApiKeys, type ApiKey } from "./api-keys.js";

/** Options of {@link clientIdentity}; validated once, when the middleware is made. */
export interface ClientIdentityOptions {
  /** Paths (and everything below them) served without an API key. Default /v1/models and /v1/health. */
  openPaths?: readonly string[];
}

/** The paths that stay open by default: listing the model and its health reveal no answers. */
export const OPEN_PATHS: readonly string[] = ["/v1/models", "/v1/health"];

/** Makes the middleware; throws naming a bad option. */
export function clientIdentity(options: ClientIdentityOptions = {}): MiddlewareHandler<AppEnv> {
  const open = options.openPaths ?? OPEN_PATHS;
  for (const p of open)
    if (!/^\/[\w./-]*[^/]$/.test(p))
      throw new Error(`clientIdentity: openPaths entry ${JSON.stringify(p)} is not a path`);
  const keys = new KeyCache();

  return async function clientIdentityMiddleware(c, next) {
    const configured = keys.get(c.env.CHAT_API_KEYS);
    const presented = bearer(c.req.header("authorization"));
    const key = configured && presented !== null ? matchApiKey(configured, presented) : null;
    const path = c.req.path;
    if (configured && !key && !open.some((p) => path === p || path.startsWith(`${p}/`))) throw refusal(presented);
    c.set("client", key ? `key:${key.id}` : ipClient(c.req.header("cf-connecting-ip")));
    await next();
  };
}

/** The parsed keys of the last CHAT_API_KEYS value seen (parsed once per value). */
class KeyCache {
  private raw?: string;
  private keys: readonly ApiKey[] | null = null;

  /** Null when no keys are configured; an ApiError 500 (logged once) when the secret is malformed. */
  get(raw: string | undefined): readonly ApiKey[] | null {
    const value = raw?.trim() ? raw : undefined;
    if (value === undefined) return null;
    if (value !== this.raw) {
      this.raw = value;
      try {
        this.keys = parseApiKeys(value);
      } catch (e) {
        this.keys = null;
        if (!(e instanceof ApiKeysError)) throw e;
        console.error(`CHAT_API_KEYS refused: ${e.message}`);
      }
    }
    if (!this.keys)
      throw new ApiError(
        500,
        "server_error",
        "The server's API keys are misconfigured.",
        null,
        "api_keys_misconfigured",
      );
    return this.keys;
  }
}

function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match ? match[1] : null;
}

/** OpenAI's 401s: no key, or a wrong one (never echoed back). */
function refusal(presented: string | null): ApiError {
  if (presented === null)
    return new ApiError(
      401,
      "invalid_request_error",
      "You didn't provide an API key. Send it in the Authorization header: Authorization: Bearer YOUR_KEY.",
      null,
      "missing_api_key",
    );
  return new ApiError(401, "invalid_request_error", "Incorrect API key provided.", null, "invalid_api_key");
}

function ipClient(ip: string | undefined): string {
  const key = clientKey(ip);
  return key === "unknown" ? "anonymous" : `ip:${key}`;
}
