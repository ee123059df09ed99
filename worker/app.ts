/**
 * The Worker's HTTP app: OpenAI-compatible serving, health, and one place that
 * turns errors into OpenAI's error shape. Built by {@link createApp} so the guard
 * (and the model store, in tests) can be plugged in.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { evaluationTraffic } from "./clients/evaluation.js";
import { clientIdentity } from "./clients/identity.js";
import { rateLimit } from "./clients/rate-limit.js";
import { requestId, type AppEnv } from "./context.js";
import type { Env } from "./env.js";
import type { ResponseGuard } from "./guard/contract.js";
import { health } from "./health.js";
import { modelStore, StoreError, type ServedModels } from "./model/index.js";
import { chatCompletions } from "./openai/chat.js";
import { completions } from "./openai/completions.js";
import { ClientClosedError } from "./openai/drain.js";
import { ApiError, internalError } from "./openai/errors.js";
import { resolveLimits, type ServingLimits } from "./openai/limits.js";
import { listModels, retrieveModel } from "./openai/models.js";

export { DEFAULT_LIMITS } from "./openai/limits.js";

/** How to build the app. */
export interface AppOptions {
  /**
   * The response guard for a request's environment; returning undefined (or
   * leaving this out) serves unguarded. Called per request; cache inside if costly.
   */
  guard?: (env: Env) => ResponseGuard | undefined;
  limits?: Partial<ServingLimits>;
  /** The model store for an environment (default: one per isolate, {@link modelStore}). */
  models?: (env: Env) => ServedModels;
}

/** Builds the app; options are validated here, once. */
export function createApp(options: AppOptions = {}): Hono<AppEnv> {
  const limits = resolveLimits(options.limits);
  const models = options.models ?? modelStore;
  const guard = options.guard ?? (() => undefined);

  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use("/v1/*", clientIdentity());
  app.use("/v1/*", evaluationTraffic());
  const limited = rateLimit();
  app.use("/v1/chat/completions", limited);
  app.use("/v1/completions", limited);
  app.get("/health", (c) => c.json({ ok: true }));
  app.get("/v1/health", health(models));
  app.get("/v1/models", listModels(models));
  app.get("/v1/models/:id", retrieveModel(models));
  app.post("/v1/chat/completions", chatCompletions({ limits, models, guard }));
  app.post("/v1/completions", completions({ limits, models, guard }));
  for (const path of ["/v1/chat/completions", "/v1/completions"]) {
    app.all(path, (c) => {
      throw new ApiError(
        405,
        "invalid_request_error",
        `${c.req.method} is not allowed on ${path}; use POST.`,
        null,
        "method_not_allowed",
      );
    });
  }
  app.notFound((c) =>
    c.json(
      new ApiError(
        404,
        "invalid_request_error",
        `Unknown request URL: ${c.req.method} ${new URL(c.req.url).pathname}.`,
        null,
        "unknown_url",
      ).toJSON(),
      404,
    ),
  );
  app.onError(function openAIError(err, c) {
    if (err instanceof ClientClosedError) {
      console.info(`${c.req.method} ${c.req.path}: ${err.message}`);
      return new Response(null, { status: 499 }); // nginx's "client closed request": nobody reads it
    }
    const e = toApiError(err);
    if (e.status >= 500) console.error(`${c.req.method} ${c.req.path} failed:`, err);
    return c.json(e.toJSON(), e.status);
  });
  return app;
}

/** Every failure as an ApiError: the one mapping from internal errors to HTTP. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StoreError) {
    if (err.kind === "config")
      return new ApiError(500, "server_error", "The model store is misconfigured.", null, "store_misconfigured");
    return new ApiError(
      503,
      "service_unavailable_error",
      `The model is not available yet: ${err.message}`,
      null,
      "model_unavailable",
    );
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    if (status >= 400 && status < 500)
      return new ApiError(status === 413 ? 413 : 400, "invalid_request_error", err.message || "Bad request.");
  }
  return internalError();
}
