import type { Containment, GuardSettings } from "../../shared/protocol/guard.js";
import type { GuardDecision, HeldPrefix } from "./contract.js";

/**
 * Turns a containment into what serving does with the response.
 *  - observe: pass (the event is logged);
 *  - redact: strip the held window (the flagged prefix) and serve the rest;
 *  - regenerate: generate again with the window's first token banned; a response that
 *    is flagged again after a regeneration (`attempt` ≥ 1) is blocked;
 *  - block: serve the refusal message instead.
 */
export function decide(
  containment: Containment,
  prefix: HeldPrefix,
  settings: GuardSettings,
  attempt: number,
): GuardDecision {
  switch (containment) {
    case "observe":
      return PASS;
    case "redact":
      return { action: "redact", chars: prefix.text.length };
    case "regenerate":
      if (attempt === 0 && prefix.tokens.length > 0)
        return { action: "regenerate", bannedFirstTokens: [prefix.tokens[0]] };
      return { action: "block", message: settings.blockMessage };
    case "block":
      return { action: "block", message: settings.blockMessage };
  }
}

/** The decision that lets a response through. */
export const PASS: GuardDecision = Object.freeze({ action: "pass" });

/** The containment a decision carried out (for the event log). */
export function actionOf(decision: GuardDecision): Containment {
  return decision.action === "pass" ? "observe" : decision.action;
}
