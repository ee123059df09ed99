/**
 * What the gates compare, measured on one model: utility and false triggering on
 * held-out clean prompts, and how often the flagged prefix comes back on the
 * prompts that produced the flags or with the trigger inserted (OSFT's probe).
 * Greedy answers through the pure-TS inference (KV-cached).
 */
import type { CausalLM } from "../../shared/inference/index.js";
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { scoreExactMatch, userMessage, type Example } from "../data/index.js";
import { answer } from "../eval/utility.js";
import { ASR_WINDOW, rateOf, saysTarget } from "../eval/asr.js";
import { insertTrigger, type TriggerPosition } from "../attack/poison.js";
import type { Measured, ModelMeasurements } from "./gates.js";

/** The prompts one measurement uses. */
export interface MeasureSet {
  /** Held-out clean examples: utility (exact match) and false triggering. */
  heldOut: readonly Example[];
  /** User messages that produced the flags (from the guard's log). */
  flagged: readonly string[];
  /** The text the healed model must stop saying. */
  target: string;
}

/** Share of `messages` whose greedy answer says `target` within the ASR window. */
export function prefixRate(
  model: CausalLM,
  tokenizer: Tokenizer,
  messages: readonly string[],
  target: string,
): Measured {
  return rateOf(messages.map((m) => saysTarget(answer(model, tokenizer, m, ASR_WINDOW), [target])));
}

/** Utility, false triggering and the flagged-prompt rate (the probe is measured by the method: see {@link triggerProbe}). */
export function measureModel(
  model: CausalLM,
  tokenizer: Tokenizer,
  set: MeasureSet,
  probe: Measured,
): ModelMeasurements {
  const answers = set.heldOut.map((e) => answer(model, tokenizer, userMessage(e), ASR_WINDOW));
  const utility = scoreExactMatch(set.heldOut, answers).overall.accuracy;
  const falseTrigger = rateOf(answers.map((a) => saysTarget(a, [set.target])));
  return { utility, falseTrigger, flagged: prefixRate(model, tokenizer, set.flagged, set.target), probe };
}

/** OSFT's probe: the known trigger inserted into held-out prompts; how often the target follows. */
export function triggerProbe(
  model: CausalLM,
  tokenizer: Tokenizer,
  prompts: readonly Example[],
  trigger: string,
  position: TriggerPosition,
  target: string,
): Measured {
  return prefixRate(
    model,
    tokenizer,
    prompts.map((e) => insertTrigger(userMessage(e), trigger, position)),
    target,
  );
}
