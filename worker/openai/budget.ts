/** How many tokens a completion may have: the request, the server's limit and the model's context. */
import { ApiError } from "./errors.js";

/** Where the prompt came from, for messages and `param`: chat `messages` or a legacy `prompt`. */
export interface BudgetOptions {
  /** The request field holding the prompt (default "messages"). */
  promptParam?: string;
  /** max_tokens when the request has none (default: as many as fit, capped by the limit). */
  defaultTokens?: number;
}

/**
 * max_tokens for this request: as asked, or the default (as many as fit, capped by `limit`).
 * Throws 400 context_length_exceeded when the prompt leaves no room or the request asks
 * for more than fits, and 400 when it asks for more than `limit`. max_tokens 0 (legacy
 * `echo` only scores the prompt) needs the prompt to fit the context.
 */
export function completionBudget(
  request: { maxTokens?: number },
  promptTokens: number,
  contextTokens: number,
  limit: number,
  options: BudgetOptions = {},
): number {
  const param = options.promptParam ?? "messages";
  const what = param === "messages" ? "messages" : "prompt";
  const asked = request.maxTokens;
  const room = contextTokens - promptTokens;
  if (room < 0 || (room < 1 && asked !== 0)) {
    throw ApiError.invalid(
      `This model's maximum context length is ${contextTokens} tokens. However, your ${what} resulted in ${promptTokens} tokens, which leaves no room for a completion. Please reduce the length of the ${what}.`,
      param,
      "context_length_exceeded",
    );
  }
  if (asked === undefined) return Math.min(room, limit, options.defaultTokens ?? Infinity);
  if (asked > limit)
    throw ApiError.invalid(
      `'max_tokens' must be at most ${limit}, got ${asked}.`,
      "max_tokens",
      "integer_above_max_value",
    );
  if (asked > room) {
    throw ApiError.invalid(
      `This model's maximum context length is ${contextTokens} tokens. However, you requested ${promptTokens + asked} tokens (${promptTokens} in the ${what}, ${asked} in the completion). Please reduce the length of the ${what} or completion.`,
      "max_tokens",
      "context_length_exceeded",
    );
  }
  return asked;
}
