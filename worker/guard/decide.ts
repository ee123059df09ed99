import type { BannedSequence } from "../../shared/guard/span-ban.js";
import type { Containment, GuardSettings } from "../../shared/protocol/guard.js";
import type { GuardDecision, HeldPrefix } from "./contract.js";
import type { KnownPrefix } from "./state.js";

/**
 * Inspections per session that may ask to regenerate before the guard blocks: with serving's
 * default of 3 generations, attempts 0 and 1 regenerate and a third flagged window is blocked.
 */
export const REGENERATIONS = 2;

/** A known-bad span matched in the held window: its characters and the sequences that ban it. */
export interface WindowSpan {
  start: number;
  end: number;
  banned: BannedSequence[];
}

/**
 * Turns a containment into what serving does with the response.
 *  - observe: pass (the event is logged);
 *  - redact: strip the matched span (`span`), else the held window, and serve the rest;
 *  - regenerate: generate again with the window's first token banned and the matched
 *    span's sequences forbidden anywhere; after {@link REGENERATIONS} regenerations a
 *    response flagged again is blocked;
 *  - block: serve the refusal message instead.
 */
export function decide(
  containment: Containment,
  prefix: HeldPrefix,
  settings: GuardSettings,
  attempt: number,
  span?: WindowSpan,
): GuardDecision {
  switch (containment) {
    case "observe":
      return PASS;
    case "redact":
      if (!span) return { action: "redact", chars: prefix.text.length };
      return span.start === 0
        ? { action: "redact", chars: span.end }
        : { action: "redact", chars: span.end - span.start, start: span.start };
    case "regenerate":
      if (attempt < REGENERATIONS && prefix.tokens.length > 0) {
        const decision = { action: "regenerate" as const, bannedFirstTokens: [prefix.tokens[0]] };
        return span ? { ...decision, bannedSpans: span.banned } : decision;
      }
      return { action: "block", message: settings.blockMessage };
    case "block":
      return { action: "block", message: settings.blockMessage };
  }
}

/**
 * The containment of a judged prefix: the operator's, when set; regenerate (falling back to
 * block) while it is confirmed or a job for it is queued or running; else the settings' default.
 */
export function containmentFor(known: KnownPrefix | undefined, settings: GuardSettings): Containment {
  if (known?.containment) return known.containment;
  if (known?.state === "confirmed" || known?.state === "remediating") return "regenerate";
  return settings.defaultContainment;
}

const SEVERITY: Record<Containment, number> = { observe: 0, redact: 1, regenerate: 2, block: 3 };

/** The stricter of two containments. */
export function stricter(a: Containment, b: Containment): Containment {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

/** The decision that lets a response through. */
export const PASS: GuardDecision = Object.freeze({ action: "pass" });

/** The containment a decision carried out (for the event log). */
export function actionOf(decision: GuardDecision): Containment {
  return decision.action === "pass" ? "observe" : decision.action;
}
