/**
 * Middleware: the operator's evaluation traffic. A request carrying
 * `x-sande-evaluation: <ADMIN_TOKEN>` is served by the model alone: no guard inspects,
 * contains or counts it. A scorecard (`npm run demo`, an operator's own ASR check) measures
 * the weights, not the guard in front of them, and its hundred triggered prompts are not
 * user traffic: counted, they would be what trips the threshold rule. The header with a
 * wrong token, or with no ADMIN_TOKEN configured, is refused (401), never served as ordinary
 * traffic, so a typo cannot quietly feed the loop.
 */
import type { MiddlewareHandler } from "hono";
import { sameSecret } from "../admin/auth.js";
import type { AppEnv } from "../context.js";
import { ApiError } from "../openai/errors.js";

/** The request header that marks evaluation traffic; its value is the admin token. */
export const EVALUATION_HEADER = "x-sande-evaluation";

/** Makes the middleware (sets the context variable `evaluation` on a valid header). */
export function evaluationTraffic(): MiddlewareHandler<AppEnv> {
  return async function evaluationTrafficMiddleware(c, next) {
    const given = c.req.header(EVALUATION_HEADER);
    if (given === undefined) return next();
    const expected = c.env.ADMIN_TOKEN;
    if (!expected || !(await sameSecret(given, expected)))
      throw new ApiError(
        401,
        "invalid_request_error",
        `The ${EVALUATION_HEADER} header must carry the admin token${expected ? "" : " (none is configured)"}.`,
        null,
        "invalid_evaluation_token",
      );
    c.set("evaluation", true);
    c.header("x-sande-guard", "off (evaluation)");
    await next();
  };
}
