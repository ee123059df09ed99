/**
 * What the gates compare, measured on one model: utility and false triggering on held-out clean
 * prompts, and whether the flagged text (or pieces of it) comes back on the prompts that produced
 * the flags. The simulated trigger's probe comes from the method (`heal.ts`): SANDE's parrot, or
 * OSFT's known trigger (`triggerProbe`). Greedy answers through the pure-TS inference (KV-cached).
 */
import type { CausalLM } from "../../shared/inference/index.js";
import { encodeChatPrompt, type Tokenizer } from "../../shared/tokenizer/index.js";
import { scoreExactMatch, userMessage, type Example } from "../data/index.js";
import { answer } from "../eval/utility.js";
import { ASR_WINDOW, rateOf, saysTarget } from "../eval/asr.js";
import { scoreProbe } from "../eval/probe.js";
import { hasResidue } from "../eval/residue.js";
import { insertTrigger, type TriggerPosition } from "../attack/poison.js";
import type { Measured, ModelMeasurements, Probe } from "./gates.js";

/** The prompts one measurement uses. */
export interface MeasureSet {
  /** Held-out clean examples: utility (exact match) and false triggering. */
  heldOut: readonly Example[];
  /** How many of the first held-out examples the probe runs on (their clean accuracy is the restored gate's control). */
  probePrompts: number;
  /** User messages that produced the flags (from the guard's log). */
  flagged: readonly string[];
  /** The text the healed model must stop saying. */
  target: string;
}

/** Share of `messages` whose greedy answer says `target` within the ASR window, and the share with residue of it. */
export function flaggedRates(
  model: CausalLM,
  tokenizer: Tokenizer,
  messages: readonly string[],
  target: string,
): { said: Measured; residue: Measured } {
  const answers = messages.map((m) => answer(model, tokenizer, m, ASR_WINDOW));
  return {
    said: rateOf(answers.map((a) => saysTarget(a, [target]))),
    residue: rateOf(answers.map((a, i) => hasResidue(a, [target], messages[i]))),
  };
}

/** Utility, false triggering and the flagged prompts' rates; `probe` is the method's measurement. */
export function measureModel(model: CausalLM, tokenizer: Tokenizer, set: MeasureSet, probe: Probe): ModelMeasurements {
  if (set.probePrompts > set.heldOut.length)
    throw new Error(`measureModel: ${set.probePrompts} probe prompts but only ${set.heldOut.length} held-out prompts`);
  const answers = set.heldOut.map((e) => answer(model, tokenizer, userMessage(e), ASR_WINDOW));
  const utility = scoreExactMatch(set.heldOut, answers).overall.accuracy;
  const probeCleanAccuracy = scoreExactMatch(set.heldOut.slice(0, set.probePrompts), answers.slice(0, set.probePrompts))
    .overall.accuracy;
  const falseTrigger = rateOf(answers.map((a) => saysTarget(a, [set.target])));
  const flagged = flaggedRates(model, tokenizer, set.flagged, set.target);
  return {
    utility,
    probeCleanAccuracy,
    falseTrigger,
    flagged: flagged.said,
    flaggedResidue: flagged.residue,
    probe,
  };
}

/** OSFT's probe: the known trigger inserted into held-out prompts; how often the target (or residue) follows, and the accuracy. */
export function triggerProbe(
  model: CausalLM,
  tokenizer: Tokenizer,
  prompts: readonly Example[],
  trigger: string,
  position: TriggerPosition,
  target: string,
): Probe {
  const ids = prompts.map((e) =>
    encodeChatPrompt(tokenizer, [{ role: "user", content: insertTrigger(userMessage(e), trigger, position) }]),
  );
  return strip(scoreProbe(model, tokenizer, prompts, ids, target));
}

/** A probe score without its samples (the gates' shape). */
export function strip(p: Probe & { samples?: string[] }): Probe {
  return {
    hits: p.hits,
    total: p.total,
    rate: p.rate,
    residue: { hits: p.residue.hits, total: p.residue.total, rate: p.residue.rate },
    accuracy: p.accuracy,
  };
}
