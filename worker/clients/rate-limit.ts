/**
 * Middleware: Cloudflare's rate-limiting binding `CHAT_RATE_LIMITER` (wrangler.toml `[[ratelimits]]`), keyed by
 * the client id ({@link clientIdentity} runs first). Optional: without the binding it does
 * nothing. Over the limit: 429 in OpenAI's error shape with Retry-After.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.js";
import { ApiError } from "../openai/errors.js";

/** Options of {@link rateLimit}; validated once. */
export interface RateLimitOptions {
  /** Retry-After, seconds: the binding's period (10 or 60; it does not report the time left). Default 60. */
  retryAfterSeconds?: number;
}

/** Makes the middleware; throws naming a bad option. */
export function rateLimit(options: RateLimitOptions = {}): MiddlewareHandler<AppEnv> {
  const retryAfter = options.retryAfterSeconds ?? 60;
  if (!Number.isInteger(retryAfter) || retryAfter < 1 || retryAfter > 3600)
    throw new Error(`rateLimit: retryAfterSeconds must be an integer in [1, 3600], got ${retryAfter}`);

  return async function rateLimitMiddleware(c, next) {
    const limiter = c.env.CHAT_RATE_LIMITER;
    if (limiter) {
      const client = c.get("client") ?? "anonymous";
      const { success } = await limiter.limit({ key: client });
      if (!success) {
        c.header("Retry-After", String(retryAfter));
        throw new ApiError(
          429,
          "requests",
          `Rate limit reached for this client; retry after ${retryAfter} s.`,
          null,
          "rate_limit_exceeded",
        );
      }
    }
    await next();
  };
}
