/** Request limits that do not depend on the model, validated once when the app is built. */

/** Request limits that do not depend on the model. */
export interface ServingLimits {
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  /** Largest max_tokens accepted (the model's context also bounds it). */
  maxTokens: number;
  /** Largest `n` (choices per prompt) accepted. */
  maxChoices: number;
  /** Most prompts in one legacy completions request (`prompt` as an array). */
  maxPrompts: number;
}

/**
 * Defaults: bodies up to 64 KiB (prompts are bounded by the model's context anyway), up to
 * 1024 completion tokens, n ≤ 4, up to 16 prompts per legacy completions request.
 */
export const DEFAULT_LIMITS: Readonly<ServingLimits> = Object.freeze({
  maxBodyBytes: 64 * 1024,
  maxTokens: 1024,
  maxChoices: 4,
  maxPrompts: 16,
});

/** The defaults with `overrides` applied; throws naming a limit that is not a positive integer. */
export function resolveLimits(overrides: Partial<ServingLimits> = {}): ServingLimits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [name, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || v < 1)
      throw new Error(`createApp: limits.${name} must be a positive integer, got ${String(v)}`);
  }
  return limits;
}
