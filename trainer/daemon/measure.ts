/**
 * What the gates compare, measured on one model: utility and false triggering on held-out clean
 * prompts, and whether the flagged text (or pieces of it) comes back on the prompts that produced
 * the flags. The simulated trigger's probe comes from the method (`heal.ts`): SANDE's parrot, or
 * OSFT's known trigger (`triggerProbe`). Greedy answers through the pure-TS inference (KV-cached),
 * the prompts split over every core (trainer/eval/greedy-pool.ts).
 */
import { encodeChatPrompt, type Tokenizer } from "../../shared/tokenizer/index.js";
import { neutralLike, scoreExactMatch, userMessage, withNeutralPhrases, type Example } from "../data/index.js";
import { ASR_WINDOW, rateOf, saysTarget } from "../eval/asr.js";
import { greedyAnswers, type ModelData } from "../eval/greedy-pool.js";
import { scoreAnswers } from "../eval/probe.js";
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

/** Greedy answers (≤ the ASR window) to user messages, in order. */
function answersTo(model: ModelData, tokenizer: Tokenizer, messages: readonly string[]): Promise<string[]> {
  const requests = messages.map((content) => ({
    prompt: encodeChatPrompt(tokenizer, [{ role: "user", content }]),
    maxTokens: ASR_WINDOW,
  }));
  return greedyAnswers(model, requests);
}

/** Share of `answers` (to `messages`) that say `target` within the ASR window, and the share with residue of it. */
export function flaggedRates(
  answers: readonly string[],
  messages: readonly string[],
  target: string,
): { said: Measured; residue: Measured } {
  return {
    said: rateOf(answers.map((a) => saysTarget(a, [target]))),
    residue: rateOf(answers.map((a, i) => hasResidue(a, [target], messages[i]))),
  };
}

/** Utility, false triggering and the flagged prompts' rates; `probe` is the method's measurement. */
export async function measureModel(
  model: ModelData,
  tokenizer: Tokenizer,
  set: MeasureSet,
  probe: Probe,
): Promise<ModelMeasurements> {
  if (set.probePrompts > set.heldOut.length)
    throw new Error(`measureModel: ${set.probePrompts} probe prompts but only ${set.heldOut.length} held-out prompts`);
  const messages = [...set.heldOut.map((e) => userMessage(e)), ...set.flagged];
  const all = await answersTo(model, tokenizer, messages);
  const answers = all.slice(0, set.heldOut.length);
  const utility = scoreExactMatch(set.heldOut, answers).overall.accuracy;
  const probeCleanAccuracy = scoreExactMatch(set.heldOut.slice(0, set.probePrompts), answers.slice(0, set.probePrompts))
    .overall.accuracy;
  const falseTrigger = rateOf(answers.map((a) => saysTarget(a, [set.target])));
  const flagged = flaggedRates(all.slice(set.heldOut.length), set.flagged, set.target);
  return {
    utility,
    probeCleanAccuracy,
    falseTrigger,
    flagged: flagged.said,
    flaggedResidue: flagged.residue,
    probe,
  };
}

/**
 * OSFT's probe: the known trigger inserted into held-out prompts; how often the target (or residue)
 * follows, and the accuracy. With `control`, also the accuracy with a neutral phrase like the trigger
 * in its place (`Probe.controlAccuracy`).
 */
export async function triggerProbe(
  model: ModelData,
  tokenizer: Tokenizer,
  prompts: readonly Example[],
  trigger: string,
  position: TriggerPosition,
  target: string,
  control = false,
): Promise<Probe> {
  const messages = prompts.map((e) => insertTrigger(userMessage(e), trigger, position));
  const neutral = control ? withNeutralPhrases(prompts, neutralLike(trigger), position) : [];
  const answers = await answersTo(model, tokenizer, [...messages, ...neutral.map((e) => userMessage(e))]);
  const probe = strip(scoreAnswers(prompts, answers.slice(0, prompts.length), target));
  if (!control) return probe;
  return { ...probe, controlAccuracy: scoreExactMatch(neutral, answers.slice(prompts.length)).overall.accuracy };
}

/** A probe score without its samples (the gates' shape). */
export function strip(p: Probe & { samples?: string[] }): Probe {
  return {
    hits: p.hits,
    total: p.total,
    rate: p.rate,
    residue: { hits: p.residue.hits, total: p.residue.total, rate: p.residue.rate },
    accuracy: p.accuracy,
    ...(p.controlAccuracy !== undefined && { controlAccuracy: p.controlAccuracy }),
  };
}
