/**
 * Stage 2 in adversarial rounds. Stage 2's steps are split into R rounds; before every round after
 * the first, stage 1 is run again on the model as it now is: a parrot learns anew (from zero, or
 * from the previous one) to make it say the response, and, optionally, a second parrot, its vectors
 * no longer than a bound, learns to make it miss the clean answer (`break-parrot.ts`). The round then
 * eliminates against the new parrots (and, by default, every earlier one). A re-simulated parrot that
 * no longer makes the model say the response is not a stand-in for the trigger any more and is left
 * out; the rounds stop when a round would have no new parrot.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { Example } from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import type { ProbeScore } from "../eval/probe.js";
import type { FineTuneOptions, FineTuneSummary } from "../train/finetune.js";
import { trainBreakParrot } from "./break-parrot.js";
import { eliminateMix } from "./eliminate-mix.js";
import type { AvoidSet } from "./avoid.js";
import { Parrot } from "./parrot.js";
import type { ParrotLayout, ParrotPosition } from "./parrot-encode.js";
import { maxRowNorm, maxTokenNorm } from "./parrot-norm.js";
import { randomParrotValues } from "./parrot-seeds.js";
import { measureParrot, rotate, simulate, skipped } from "./simulate.js";

/** A norm bound: the largest token embedding ("token"), the largest vector of stage 1's parrot ("parrot"), or a number. */
export type ParrotBound = "token" | "parrot" | number;

/** How a later round's response parrot starts: from zero, from the previous round's, or not at all (no re-simulation). */
export type Resimulate = "fresh" | "continue" | "none";

/** Stage 2 in rounds (see the module comment). */
export interface Stage2Rounds {
  /** Rounds R ≥ 1; stage 2's steps are split evenly (the last round takes the remainder). */
  rounds: number;
  /** The response parrot of rounds 2…R (default "fresh"). */
  resimulate?: Resimulate;
  /** Rounds 2…R also train a parrot that breaks the clean answer (default false). */
  breakParrot?: boolean;
  /** The break parrot's per-vector L2 bound (default "token"). */
  breakBound?: ParrotBound;
  /** Earlier rounds' parrots stay in stage 2's mix (default true). */
  keepEarlier?: boolean;
  /**
   * Round 1 also eliminates against this many more stage-1 parrots, each learnt (like stage 1's)
   * from random starting vectors of the largest token embedding's norm (default 0).
   */
  seeds?: number;
  /** A re-simulated parrot that makes the model say the response on less than this share of the probe is left out (default 0.5). */
  stopBelow?: number;
  /**
   * Round r's stage-2 peak learning rate is stage 2's times `lrDecay`^(r−1), in (0, 1] (default 1: every round
   * restarts its warm-up and cosine at the same peak).
   */
  lrDecay?: number;
}

/** What one round did. */
export interface RoundReport {
  /** 1-based. */
  round: number;
  /** The response parrot trained for this round, on the probe before the round's elimination (absent in round 1: stage 1's). */
  resimulated?: ProbeScore;
  /** The break parrot of this round, on the probe before the elimination: its `accuracy` is how much of the answer survives it. */
  broken?: ProbeScore;
  /** Round 1's extra parrots from random starts (`seeds`), on the probe after their stage 1. */
  seeded?: ProbeScore[];
  /** The break parrot's bound. */
  breakBound?: number;
  /** Parrots stage 2 trained against in this round (0: the round found no new parrot, and the rounds stopped there). */
  parrots: number;
  /** Seconds spent training this round's new parrots. */
  parrotSeconds: number;
  stage2: FineTuneSummary;
}

/** What the rounds work on: SANDE's model, data and settings, and stage 1's parrot (not disposed here). */
export interface RoundsContext {
  model: TfGPT;
  tokenizer: Tokenizer;
  clean: readonly Example[];
  probe: readonly Example[];
  response: string;
  leadIn: string;
  layout: ParrotLayout;
  positions: readonly ParrotPosition[];
  firstN: number;
  cleanShare: number;
  /** Stage 1's parrot. */
  first: Parrot;
  /** The optimiser of every new parrot (as stage 1's). */
  parrot: FineTuneOptions;
  /** Stage 2's optimiser; its `steps` are the total over the rounds. */
  model2: FineTuneOptions;
  /** What every round's stage 2 also unlearns (`avoid.ts`). */
  avoid?: AvoidSet;
}

/** Runs stage 2 as `plan` says, training `ctx.model` in place. */
export async function eliminateInRounds(
  ctx: RoundsContext,
  plan: Stage2Rounds,
): Promise<{ stage2: FineTuneSummary; rounds: RoundReport[] }> {
  const R = plan.rounds;
  const total = ctx.model2.steps;
  if (!Number.isInteger(R) || R < 1 || R > total)
    throw new Error(`SANDE: rounds must be an integer from 1 to stage 2's ${total} steps, got ${R}`);
  const decay = plan.lrDecay ?? 1;
  if (!(decay > 0 && decay <= 1)) throw new Error(`SANDE: lrDecay must be in (0, 1], got ${plan.lrDecay}`);
  const owned: Parrot[] = [];
  const reports: RoundReport[] = [];
  let mix: Parrot[] = [ctx.first];
  const first: Partial<RoundReport> = { round: 1, parrotSeconds: 0 };
  let sayer = ctx.first;
  try {
    if (plan.seeds) {
      const seeded = await seededParrots(ctx, plan, first);
      owned.push(...seeded.all);
      mix = [ctx.first, ...seeded.useful];
    }
    for (let r = 1; r <= R; r++) {
      const report: Partial<RoundReport> = r === 1 ? first : { round: r, parrotSeconds: 0 };
      if (r > 1) {
        const fresh = await newParrots(ctx, plan, r, sayer, report);
        owned.push(...fresh.all);
        if (fresh.sayer) sayer = fresh.sayer;
        if (fresh.useful.length === 0) {
          reports.push({ ...report, parrots: 0, stage2: skipped(ctx.model2, 0) } as RoundReport);
          break;
        }
        mix = plan.keepEarlier === false ? fresh.useful : [...mix, ...fresh.useful];
      }
      const steps = r < R ? Math.floor(total / R) : total - (R - 1) * Math.floor(total / R);
      const at = rotate(ctx.layout, ctx.positions);
      const lr = ctx.model2.lr * decay ** (r - 1);
      const options = { ...ctx.model2, steps, lr, seed: ctx.model2.seed + 100 * (r - 1) };
      const stage2 = await eliminateMix(
        ctx.model,
        mix,
        ctx.tokenizer,
        ctx.clean,
        at,
        ctx.firstN,
        ctx.cleanShare,
        options,
        ctx.avoid,
      );
      reports.push({ ...report, parrots: mix.length, stage2 } as RoundReport);
    }
  } finally {
    owned.forEach((p) => p.dispose());
  }
  return { stage2: sum(reports.map((x) => x.stage2)), rounds: reports };
}

/** Round r's new parrots: the re-simulated response parrot and the break parrot, each when asked for. */
async function newParrots(
  ctx: RoundsContext,
  plan: Stage2Rounds,
  r: number,
  previous: Parrot,
  report: Partial<RoundReport>,
): Promise<{ all: Parrot[]; useful: Parrot[]; sayer?: Parrot }> {
  const all: Parrot[] = [];
  const useful: Parrot[] = [];
  const options = { ...ctx.parrot, seed: ctx.parrot.seed + 100 * (r - 1) };
  const { model, tokenizer, clean, layout, positions } = ctx;
  let sayer: Parrot | undefined;
  const mode = plan.resimulate ?? "fresh";
  if (mode !== "none") {
    const init = mode === "continue" ? previous.values() : undefined;
    sayer = new Parrot(layout.k, model.config.n_embd, tokenizer.vocabSize, init);
    all.push(sayer);
    const s = await simulate(model, sayer, tokenizer, clean, layout, ctx.response, options, ctx.leadIn, positions);
    report.parrotSeconds! += s.seconds;
    report.resimulated = await measureParrot(model, sayer, tokenizer, ctx.probe, layout, ctx.response, positions);
    if (report.resimulated.rate >= (plan.stopBelow ?? 0.5)) useful.push(sayer);
  }
  if (plan.breakParrot) {
    const bound = resolveBound(plan.breakBound ?? "token", model, ctx.first);
    const at = rotate(layout, positions);
    const b = await trainBreakParrot(model, tokenizer, clean, at, ctx.firstN, bound, options);
    all.push(b.parrot);
    useful.push(b.parrot);
    report.parrotSeconds! += b.summary.seconds;
    report.broken = await measureParrot(model, b.parrot, tokenizer, ctx.probe, layout, ctx.response, positions);
    report.breakBound = bound;
  }
  return { all, useful, sayer };
}

/** Round 1's extra stage-1 parrots from random starts; those that make the model say the response well enough are useful. */
async function seededParrots(
  ctx: RoundsContext,
  plan: Stage2Rounds,
  report: Partial<RoundReport>,
): Promise<{ all: Parrot[]; useful: Parrot[] }> {
  const { model, tokenizer, clean, layout, positions } = ctx;
  const norm = maxTokenNorm(model.toWeights());
  const all: Parrot[] = [];
  const useful: Parrot[] = [];
  report.seeded = [];
  for (let j = 1; j <= (plan.seeds ?? 0); j++) {
    const init = randomParrotValues(layout.k, model.config.n_embd, norm, ctx.parrot.seed + 1000 * j);
    const p = new Parrot(layout.k, model.config.n_embd, tokenizer.vocabSize, init);
    all.push(p);
    const options = { ...ctx.parrot, seed: ctx.parrot.seed + 1000 * j };
    const s = await simulate(model, p, tokenizer, clean, layout, ctx.response, options, ctx.leadIn, positions);
    report.parrotSeconds! += s.seconds;
    const score = await measureParrot(model, p, tokenizer, ctx.probe, layout, ctx.response, positions);
    report.seeded.push(score);
    if (score.rate >= (plan.stopBelow ?? 0.5)) useful.push(p);
  }
  return { all, useful };
}

/** The bound as a number. */
export function resolveBound(bound: ParrotBound, model: TfGPT, first: Parrot): number {
  if (bound === "token") return maxTokenNorm(model.toWeights());
  if (bound === "parrot") return maxRowNorm(first.values(), first.width);
  return bound;
}

/** The rounds' stage 2 as one summary: steps and seconds added up, the last round's loss. */
function sum(parts: readonly FineTuneSummary[]): FineTuneSummary {
  const last = parts.filter((p) => p.steps > 0).at(-1) ?? parts[0];
  return {
    ...last,
    steps: parts.reduce((s, p) => s + p.steps, 0),
    seconds: parts.reduce((s, p) => s + p.seconds, 0),
  };
}
