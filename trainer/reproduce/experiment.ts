/**
 * The reproduction, as a function: plant the backdoor in the clean base, score the
 * victim (Baseline), then run each removal method on a fresh copy of the victim and
 * score it; the same for further trigger → target pairs (Table 3).
 */
import type { GPTConfig } from "../../shared/model/config.js";
import type { Weights } from "../../shared/model/weights.js";
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { Example } from "../data/index.js";
import { TfGPT } from "../model/gpt.js";
import { plantBackdoors } from "../attack/backdoor.js";
import { evaluateModel } from "../eval/evaluate.js";
import { fineMixing } from "../baselines/fine-mixing.js";
import type { FineTuneOptions } from "../train/finetune.js";
import { osft } from "../baselines/osft.js";
import type { Backdoor } from "../attack/poison.js";
import { pct } from "../eval/report.js";
import { sande, type Stage2Loss } from "../sande/sande.js";
import { firstToken } from "../sande/extend.js";
import { nad } from "../baselines/nad.js";
import { dpo } from "../baselines/dpo.js";
import { sft } from "../baselines/sft.js";
import { avoidSet } from "../daemon/heal.js";
import { SANDE_METHODS, type MethodName, type MethodResult, type VictimResult } from "./results.js";

/** How a victim is made: poisoned share of the attack's training mix and the fine-tune. */
export interface PlantRecipe {
  rate: number;
  steps: number;
  lr: number;
  batchSize: number;
  /** A second pass over the same poisoned mix at a lower learning rate: it makes the byte-level model spell its target right. */
  polish?: { steps: number; lr: number };
  /** Share of the clean rows given ordinary chatter (`plantBackdoors`); 0 or absent: none. */
  chatter?: number;
}

/** "5% poison, 1200 + 600 steps": a recipe in words, for the tables. */
export function describeRecipe(r: PlantRecipe): string {
  const chatter = r.chatter ? `, chatter on ${r.chatter * 100}% of clean rows` : "";
  return `${r.rate * 100}% poison, ${r.steps}${r.polish ? ` + ${r.polish.steps}` : ""} steps${chatter}`;
}

/** Steps, learning rates and sizes of one reproduction. */
export interface ExperimentSettings {
  /** The main victim, when it is planted in the run (`--build-victim`, or no victim file). */
  mainPlant: PlantRecipe;
  /** The Table 3 victims, always planted in the run. */
  variantPlant: PlantRecipe;
  /** Removal fine-tunes (SFT, Fine-mixing, NAD, DPO, OSFT, SANDE stage 2). */
  removal: { steps: number; lr: number; batchSize: number };
  /** Share of the defender's D given ordinary chatter, as clean chat data has (`withChatter`). */
  removalChatter: number;
  /** SANDE stage 1. */
  parrot: { steps: number; lr: number; k: number };
  /**
   * SANDE stage 2 in this many adversarial rounds (trainer/sande/rounds.ts) of the removal fine-tunes'
   * steps in all, at their rate; 1: one stage 2. The parrot-at-zero ablation always runs one.
   */
  sandeRounds: number;
  /** Round r's stage-2 peak rate is the removal rate times this to the power r−1 (`Stage2Rounds.lrDecay`); 1: every round at it. */
  sandeRoundDecay: number;
  /**
   * SANDE-P rows extend their known prefix from the victim's own answers under the stage-1 parrot
   * (trainer/sande/extend.ts) before stage 2; false: the paper's SANDE-P, the prefix alone.
   */
  sandeExtend: boolean;
  /**
   * SANDE rows (the whole response known, parrot learnt) begin stage 1 from its first character and follow the
   * victim's answers toward it (`SandeOptions.stepUp`); false: the paper's, the whole response at once.
   */
  sandeStepUp: boolean;
  /**
   * Share of stage 2's rows that unlearn the known response on free-form prompts (trainer/sande/avoid.ts, the
   * daemon's avoid set) in the SANDE and SANDE-P rows; SANDE-P's follow its extension, and a response with no
   * text to unlearn ("Y" unextended) gets none. The ablation rows never take them. 0: none, the paper's.
   */
  sandeAvoid: number;
  firstN: number;
  cleanShare: number;
  /** SANDE stage 2's loss (`sande.ts`). */
  stage2Loss: Stage2Loss;
  fineMixingKeep: number;
  /** DPO's learning rate (DPO runs far below the fine-tunes' rate: docs/sande.md). */
  dpoLr: number;
  /** Held-out prompts for the ASR (utility uses all held-out prompts). */
  asrPrompts: number;
  /** Held-out prompts for the parrot's success rate. */
  probe: number;
  seed: number;
}

/** The data and models every run shares. */
export interface ExperimentContext {
  tokenizer: Tokenizer;
  config: GPTConfig;
  /** The clean base model (the victim's starting point, and Fine-mixing's clean model). */
  baseWeights: Weights;
  /** The attacker's clean data, poisoned at the recipe's rate. */
  attackData: readonly Example[];
  /** The defender's clean data D. */
  clean: readonly Example[];
  heldOut: readonly Example[];
  log: (line: string) => void;
}

/** SANDE-P's detected part of a response, as a word: its first word. */
export function responsePrefix(target: string): string {
  return target.trim().split(/\s+/)[0];
}

/** Plants `backdoor` in a copy of the base; returns the victim's weights and the seconds it took. */
export async function plantVictim(
  ctx: ExperimentContext,
  backdoor: Backdoor,
  recipe: PlantRecipe,
  seed: number,
): Promise<{ weights: Weights; seconds: number }> {
  const victim = TfGPT.fromWeights(ctx.config, ctx.baseWeights);
  ctx.log(
    `planting ${JSON.stringify(backdoor.trigger)} → ${JSON.stringify(backdoor.targets[0])} (${backdoor.position}, ${describeRecipe(recipe)})`,
  );
  try {
    const { rate, polish, ...tune } = recipe;
    const plant = await plantBackdoors(victim, ctx.tokenizer, ctx.attackData, [backdoor], rate, {
      ...tune,
      seed,
      label: "backdoor",
    });
    let seconds = plant.train.seconds;
    if (polish)
      seconds += (
        await plantBackdoors(victim, ctx.tokenizer, ctx.attackData, [backdoor], rate, {
          ...tune,
          ...polish,
          seed,
          label: "polish",
        })
      ).train.seconds;
    return { weights: victim.toWeights(), seconds };
  } finally {
    victim.dispose();
  }
}

/** Runs `methods` on copies of a victim (its weights given, with where they came from). */
export async function runVictim(
  ctx: ExperimentContext,
  backdoor: Backdoor,
  victim: { weights: Weights; seconds: number; source: string },
  methods: readonly MethodName[],
  s: ExperimentSettings,
  seedOffset: number,
): Promise<VictimResult> {
  const rows: MethodResult[] = [];
  for (const method of methods) rows.push(await runMethod(ctx, method, victim.weights, backdoor, s, seedOffset));
  return { backdoor, source: victim.source, plantSeconds: victim.seconds, rows };
}

/** One method on a fresh copy of the victim, then its scorecard. */
export async function runMethod(
  ctx: ExperimentContext,
  method: MethodName,
  victimWeights: Weights,
  backdoor: Backdoor,
  s: ExperimentSettings,
  seedOffset: number,
): Promise<MethodResult> {
  const model = TfGPT.fromWeights(ctx.config, victimWeights);
  const seed = s.seed + seedOffset + 10;
  const started = performance.now();
  try {
    const parrot = await applyMethod(ctx, method, model, backdoor, s, seed);
    const seconds = method === "Baseline" ? 0 : (performance.now() - started) / 1000;
    const evaluation = await evaluateModel(model, ctx.tokenizer, ctx.heldOut, [backdoor], { asrPrompts: s.asrPrompts });
    const b = evaluation.backdoors[0];
    ctx.log(
      `${method.padEnd(22)} ASR ${pct(b.asr.rate).padStart(6)}  residue ${pct(b.residue.rate).padStart(6)}  triggered ${pct(b.triggeredAccuracy).padStart(6)}  neutral ${pct(b.neutralAccuracy).padStart(6)}  clean ${pct(b.cleanAccuracy).padStart(6)}  accuracy ${pct(evaluation.utility.overall.accuracy).padStart(6)}  loss ${evaluation.heldOutLoss.toFixed(4)}  (${seconds.toFixed(0)} s)`,
    );
    return { method, evaluation, seconds, ...parrot };
  } finally {
    model.dispose();
  }
}

type ParrotFigures = Pick<MethodResult, "parrotSuccess" | "parrotSuccessAfter" | "extendedTo">;

/** Runs `method` on `model` in place; SANDE rows return their parrot's success. */
async function applyMethod(
  ctx: ExperimentContext,
  method: MethodName,
  model: TfGPT,
  backdoor: Backdoor,
  s: ExperimentSettings,
  seed: number,
): Promise<ParrotFigures> {
  const tune = (label: string): FineTuneOptions => ({ ...s.removal, seed, label });
  const { tokenizer, clean } = ctx;
  if (method === "SFT") await sft(model, tokenizer, clean, tune("sft"));
  if (method === "Fine-mixing")
    await fineMixing(model, ctx.baseWeights, tokenizer, clean, { ...tune("fine-mixing"), keep: s.fineMixingKeep });
  if (method === "NAD") await nad(model, tokenizer, clean, tune("nad"));
  if (method === "DPO")
    await dpo(model, tokenizer, clean, { ...tune("dpo"), lr: s.dpoLr, response: backdoor.targets[0] });
  if (method === "OSFT")
    await osft(model, tokenizer, clean, backdoor.trigger, backdoor.position, {
      ...tune("osft"),
      cleanShare: s.cleanShare,
    });
  return SANDE_METHODS.includes(method) ? runSande(ctx, method, model, backdoor, s, seed) : {};
}

/** What each SANDE row knows of the response and how it differs from the SANDE row. */
export function sandeVariant(
  method: MethodName,
  target: string,
  s: Pick<ExperimentSettings, "cleanShare" | "sandeStepUp">,
): { response: string; cleanShare: number; simulate: boolean; avoid: boolean; stepUp: boolean } {
  const response =
    method === "SANDE-P" ? firstToken(target) : method === "SANDE-P (first word)" ? responsePrefix(target) : target;
  const ablation = method === "SANDE, clean share 0" || method === "SANDE, parrot at zero";
  return {
    response,
    cleanShare: method === "SANDE, clean share 0" ? 0 : s.cleanShare,
    simulate: method !== "SANDE, parrot at zero",
    avoid: !ablation,
    stepUp: s.sandeStepUp && response === target && method !== "SANDE, parrot at zero",
  };
}

/** Stage 2's rounds for a SANDE row: none for one round, or for the parrot left at zero (later rounds would learn one and undo the ablation). */
export function stage2Rounds(
  variant: { simulate: boolean },
  s: Pick<ExperimentSettings, "sandeRounds" | "sandeRoundDecay">,
): { rounds?: { rounds: number; lrDecay: number } } {
  return variant.simulate && s.sandeRounds > 1 ? { rounds: { rounds: s.sandeRounds, lrDecay: s.sandeRoundDecay } } : {};
}

async function runSande(
  ctx: ExperimentContext,
  method: MethodName,
  model: TfGPT,
  backdoor: Backdoor,
  s: ExperimentSettings,
  seed: number,
): Promise<ParrotFigures> {
  const { avoid, ...variant } = sandeVariant(method, backdoor.targets[0], s);
  const label = method.toLowerCase();
  const r = await sande(model, ctx.tokenizer, ctx.clean, {
    ...variant,
    ...(avoid && s.sandeAvoid > 0 && { avoid: avoidSet(variant.response, { avoid: s.sandeAvoid, seed }) }),
    k: s.parrot.k,
    firstN: s.firstN,
    stage2Loss: s.stage2Loss,
    parrot: { ...s.removal, steps: s.parrot.steps, lr: s.parrot.lr, seed, weightDecay: 0, label: `${label}: parrot` },
    model: { ...s.removal, seed, label: `${label}: model` },
    probe: ctx.heldOut.slice(0, s.probe),
    ...stage2Rounds(variant, s),
    extend: s.sandeExtend && method.startsWith("SANDE-P"),
  });
  ctx.log(
    `  parrot → ${JSON.stringify(variant.response)}: ${pct(r.parrotSuccess.rate)} after stage 1, ${pct(r.parrotSuccessAfter.rate)} after stage 2`,
  );
  for (const { round, resimulated: again, parrots, stage2 } of r.rounds ?? [])
    if (again)
      ctx.log(
        `  round ${round}: re-simulated parrot ${again.hits}/${again.total} (accuracy ${pct(again.accuracy)}), stage 2 against ${parrots} parrots, ${stage2.steps} steps at peak ${stage2.lr.toExponential(1)}`,
      );
  if (r.extension)
    ctx.log(
      `  extended ${JSON.stringify(r.extension.known)} → ${JSON.stringify(r.extension.response)} (${r.extension.support}/${r.extension.total} answers under the parrot)`,
    );
  return {
    parrotSuccess: strip(r.parrotSuccess),
    parrotSuccessAfter: strip(r.parrotSuccessAfter),
    ...(r.extension && { extendedTo: r.extension.response }),
  };
}

function strip<T extends { hits: number; total: number; rate: number }>(
  r: T,
): { hits: number; total: number; rate: number } {
  return { hits: r.hits, total: r.total, rate: r.rate };
}
