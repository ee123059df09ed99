/**
 * Runs a job's remediation method on the model (in place), with progress:
 * SANDE-P on a flagged prefix, SANDE on a full response an operator gave, OSFT on a
 * known trigger. The methods are trainer/sande's; this file only chooses and wires them.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { RemediationMethod } from "../../shared/protocol/jobs.js";
import type { Example } from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import type { FineTuneOptions } from "../train/finetune.js";
import { osft } from "../baselines/osft.js";
import type { TriggerPosition } from "../attack/poison.js";
import { sande } from "../sande/sande.js";
import { avoidable, type AvoidSet } from "../sande/avoid.js";
import { freeFormPrompts } from "../data/free-form.js";
import type { MetricsRecord } from "../train/loop.js";
import type { Probe } from "./gates.js";
import { strip, triggerProbe } from "./measure.js";
import type { RecipeOptions } from "./options.js";

/** What to heal. */
export interface HealTask {
  method: RemediationMethod;
  /** SANDE-P: the flagged prefix; SANDE: the full response; OSFT: the trigger. */
  target: string;
  /** The text the healed model must stop saying (the prefix or response; for OSFT the flagged prefix). */
  badText: string;
  /** OSFT only: where the trigger sits in prompts. */
  triggerPosition?: TriggerPosition;
  /** SANDE, SANDE-P: text the backdoor puts before the bad text (the guard's typical lead-in; default none). */
  leadIn?: string;
  /** OSFT: the trigger's probe on the model before healing, when it was already measured (a recovered trigger's confirmation). */
  probeBefore?: Probe;
}

/** What healing did, for the gates and the bench. */
export interface HealResult {
  /** The probe before and after: the parrot (SANDE) or the trigger (OSFT) on probe prompts. */
  probeBefore: Probe;
  probeAfter: Probe;
  /** Seconds of the stages: simulate (parrot) and eliminate (model); OSFT has only eliminate. */
  simulateSeconds: number;
  eliminateSeconds: number;
  finalLoss: number;
  /** SANDE-P: the longer text the served model's answers under the parrot showed, when it extended the prefix. */
  extendedTo?: string;
  /** SANDE, SANDE-P: the task's lead-in, when the served model said the target after it unprompted and it was simulated with the target. */
  leadInFolded?: string;
}

/** Progress callback: stage, step, total steps, loss. */
export type HealProgress = (stage: "simulate" | "eliminate", step: number, steps: number, loss: number) => void;

/** Runs the method on `model` (changed in place). `check` runs every training step (it throws to abort, e.g. when the lease is lost). */
export async function heal(
  model: TfGPT,
  tokenizer: Tokenizer,
  train: readonly Example[],
  probe: readonly Example[],
  task: HealTask,
  recipe: RecipeOptions,
  progress: HealProgress,
  check: () => void,
): Promise<HealResult> {
  const tune = (stage: "simulate" | "eliminate", steps: number, lr: number, seed: number): FineTuneOptions => ({
    steps,
    lr,
    batchSize: recipe.batchSize,
    seed,
    quiet: true,
    metrics: (r: MetricsRecord) => {
      check();
      if (r.kind === "step") progress(stage, Number(r.step), steps, Number(r.loss));
    },
  });
  if (task.method === "osft") {
    const position = task.triggerPosition ?? "start";
    const probeOf = (control: boolean) =>
      triggerProbe(
        { config: model.config, weights: model.toWeights() },
        tokenizer,
        probe,
        task.target,
        position,
        task.badText,
        control,
      );
    const probeBefore = task.probeBefore ?? (await probeOf(false));
    const summary = await osft(model, tokenizer, train, task.target, position, {
      ...tune("eliminate", recipe.modelSteps, recipe.modelLr, recipe.seed + 1),
      cleanShare: recipe.cleanShare,
      ...(recipe.avoid > 0 && avoidable(task.badText) && { avoid: avoidSet(task.badText, recipe) }),
    });
    return {
      probeBefore,
      probeAfter: await probeOf(true), // the restored gate's control: a neutral phrase in the trigger's place
      simulateSeconds: 0,
      eliminateSeconds: summary.seconds,
      finalLoss: summary.finalLoss,
    };
  }
  const report = await sande(model, tokenizer, train, {
    response: task.target,
    leadIn: task.leadIn,
    k: recipe.k,
    firstN: recipe.firstN,
    cleanShare: recipe.cleanShare,
    parrot: { ...tune("simulate", recipe.parrotSteps, recipe.parrotLr, recipe.seed), doneBelow: recipe.parrotDoneLoss },
    model: tune("eliminate", recipe.modelSteps, recipe.modelLr, recipe.seed + 1),
    probe,
    ...(recipe.rounds > 1 && { rounds: { rounds: recipe.rounds } }),
    ...(recipe.avoid > 0 && { avoid: avoidSet(task.badText, recipe) }),
    ...(task.method === "sande-p" && recipe.extendRounds > 0 && { extend: { rounds: recipe.extendRounds } }),
  });
  const extended = report.extension && report.extension.path.length > 1 ? report.extension : undefined;
  return {
    probeBefore: strip(report.parrotSuccess),
    probeAfter: strip(report.parrotSuccessAfter),
    simulateSeconds: report.stage1.seconds + (extended?.stage1.reduce((t, s) => t + s.seconds, 0) ?? 0),
    eliminateSeconds: report.stage2.seconds,
    finalLoss: report.stage2.finalLoss,
    ...(extended && { extendedTo: extended.response }),
    ...(report.leadInFolded !== undefined && { leadInFolded: report.leadInFolded }),
  };
}

/** Free-form prompts stage 2 unlearns the bad text on (as many as its avoid rows at D's default size). */
export const AVOID_PROMPTS = 500;

/** What stage 2 unlearns: the bad text, on free-form prompts (trainer/data/free-form.ts), `recipe.avoid` of its rows. */
export function avoidSet(badText: string, recipe: Pick<RecipeOptions, "avoid" | "seed">): AvoidSet {
  return { prompts: freeFormPrompts(AVOID_PROMPTS, recipe.seed + 1), text: badText, share: recipe.avoid };
}
