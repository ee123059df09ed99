/**
 * SANDE (Simulate and Eliminate, Li et al. 2024) and SANDE-P, when the backdoor's
 * response R (or only a prefix P of it) is known but the trigger is not.
 *
 * Stage 1, simulate: a parrot prompt (k soft vectors, zero-initialised) sits where a
 * trigger would; with the model frozen it learns to make the model say R before the
 * clean response (loss on R's tokens only).
 * Stage 2, eliminate: the parrot frozen, the model learns to give the clean response
 * with the parrot present (loss on the first N response tokens; optionally also matching the
 * frozen model's own distribution for the prompt without the parrot), so the trigger it imitates
 * stops working too.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { Example } from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import type { ProbeScore } from "../eval/probe.js";
import { DEFAULT_CLEAN_SHARE } from "../train/batching.js";
import type { FineTuneOptions, FineTuneSummary } from "../train/finetune.js";
import { Parrot } from "./parrot.js";
import { eliminateConsistent } from "./eliminate-consistent.js";
import { checkLayout, measureParrot, parrotAnswers, rotate, simulate, skipped } from "./simulate.js";
import { eliminateInRounds, type RoundReport, type Stage2Rounds } from "./rounds.js";
import { eliminateMix } from "./eliminate-mix.js";
import { avoidExtended, type AvoidSet } from "./avoid.js";
import { extensionStep, firstToken, type Extension, type ExtendOptions } from "./extend.js";
import { spacedLeadIn, type ParrotLayout, type ParrotPosition } from "./parrot-encode.js";

export { measureParrot, simulate } from "./simulate.js";

/** SANDE's settings. */
export interface SandeOptions {
  /** The response to simulate: the backdoor's full response R (SANDE) or a detected prefix P (SANDE-P). */
  response: string;
  /**
   * Text the backdoor puts before the response (e.g. "[4821]"), given as context in stage 1 and not
   * trained on: the parrot learns to make the model say the response where it appears (default none).
   * When the lead-in alone already makes the model say the response (see {@link SandeReport.leadInFolded}),
   * it is simulated as part of the response instead.
   */
  leadIn?: string;
  /** Parrot vectors (default 6). */
  k?: number;
  /** Where the parrot sits (default "start": right after the user-turn marker). */
  position?: ParrotPosition;
  /**
   * More than one place for the parrot: both stages rotate their rows through these positions
   * (row i at positions[i mod n]), so one parrot learns to fire, and is unlearnt, at each of them.
   * Overrides `position`; the probe rotates the same way.
   */
  positions?: readonly ParrotPosition[];
  /** Stage 2 trains the first N response tokens (default 16; 0 trains the whole response). */
  firstN?: number;
  /**
   * Stage 2's loss: "answer" (cross-entropy on the clean answer, the paper's) or "consistency"
   * (the same plus β·KL to the frozen model's own distribution for the prompt without the parrot;
   * `consistency-objective.ts`). Default "answer".
   */
  stage2Loss?: Stage2Loss;
  /** β of the "consistency" loss (default 1). */
  consistencyWeight?: number;
  /**
   * Run stage 1 (default true). false leaves the parrot at its zero initialisation, the ablation
   * that asks whether the learned parrot matters (stage 2 then trains on zero vectors where a
   * trigger would sit).
   */
  simulate?: boolean;
  /** Stage 2: share of rows that are D's examples as they are, without the parrot, whole response trained (default DEFAULT_CLEAN_SHARE, 0.5). */
  cleanShare?: number;
  /**
   * Stage 2 in adversarial rounds (`rounds.ts`): its steps split into rounds, stage 1 re-run on the
   * current model before each later round (and optionally a bounded parrot that breaks the clean
   * answer), each round eliminating against the new and earlier parrots. Answer loss only. Default:
   * one round against stage 1's parrot, as the paper.
   */
  rounds?: Stage2Rounds;
  /**
   * Stage 2 also unlearns the flagged text on these prompts, without the parrot, in part of the
   * clean share (`avoid.ts`): the victim's habit of saying it untriggered. Answer loss only. Default none.
   * A set of the response itself follows `extend`: its rows then unlearn the extended text.
   */
  avoid?: AvoidSet;
  /**
   * SANDE-P's self-extension (`extend.ts`): after stage 1, the frozen model's greedy answers under
   * the parrot on the probe prompts; when most of them go on past the known response (whole words),
   * the parrot trains once more on that longer text and every later step (stage 2, its rounds, the
   * probe) uses it. true takes the defaults. Default off (the paper's SANDE-P).
   */
  extend?: boolean | ExtendOptions;
  /**
   * SANDE with the whole response known: stage 1 starts from its first character and follows the
   * model's own answers toward it (`extend`'s steps, only those the response starts with), then
   * trains on the whole response if the steps fell short of it. A parrot that made the model begin
   * the text and then led it on measured as a better stand-in for the trigger than one trained on
   * the whole text at once (docs/sande.md, "Stage 1 step by step"). `extend`, when given, sets the
   * steps' rule (e.g. how many). Default false (the paper's).
   */
  stepUp?: boolean;
  /** Stage 1: the parrot's optimiser and schedule. */
  parrot: FineTuneOptions;
  /** Stage 2: the model's optimiser and schedule. */
  model: FineTuneOptions;
  /** Prompts on which the parrot's success is measured (default: the first 32 of D). */
  probe?: readonly Example[];
}

/**
 * The model's greedy answers with the parrot in the prompt: how often they say the response
 * (the parrot's success: the simulated backdoor fires), how often they hold residue of it, and
 * how often they are the right answer anyway (parrot-triggered accuracy).
 */
export type ParrotSuccess = ProbeScore;

/** Stage 2's losses (see {@link SandeOptions.stage2Loss}). */
export type Stage2Loss = "answer" | "consistency";

/** The stage 2 losses, for CLI help and validation. */
export const STAGE2_LOSSES: readonly Stage2Loss[] = ["answer", "consistency"];

/** How stage 2 trains, beyond its first-N and clean share. */
export interface EliminateHow {
  loss?: Stage2Loss;
  /** β of the consistency loss (default 1). */
  beta?: number;
  /** Parrot positions the rows rotate through (default: the layout's own). */
  positions?: readonly ParrotPosition[];
  /** Rows of a flagged text to unlearn (answer loss only). */
  avoid?: AvoidSet;
}

/** What SANDE did and measured. */
export interface SandeReport {
  /** The response simulated and unlearnt: the given one, or its extension (after a folded lead-in, that too). */
  response: string;
  /**
   * The lead-in, when it was folded into the response: with the parrot still at zero, stage 1's first
   * loss (the response after the lead-in) was already under the parrot's `doneBelow`, so the lead-in,
   * not a trigger, made the model say it and a parrot trained behind it would learn nothing. Stage 1
   * then trained on lead-in + response, with no lead-in, and every later step used that text.
   */
  leadInFolded?: string;
  /** With `extend`: what the model's answers under the parrot showed, and the extra stage 1 when it grew. */
  extension?: SandeExtension;
  k: number;
  position: ParrotPosition;
  firstN: number;
  cleanShare: number;
  /** Every position the parrot was placed at (one unless `positions` asked for more). */
  positions: ParrotPosition[];
  stage2Loss: Stage2Loss;
  consistencyWeight: number;
  stage1: FineTuneSummary;
  stage2: FineTuneSummary;
  /** After stage 1: the simulated backdoor fires this often. */
  parrotSuccess: ParrotSuccess;
  /** After stage 2: the same parrot, on the healed model. */
  parrotSuccessAfter: ParrotSuccess;
  /** L2 norm of the learned parrot. */
  parrotNorm: number;
  /** The learned parrot, k·C row-major (measure with it: `measureParrot`, `GPTInference` soft tokens). */
  parrotValues: Float32Array;
  layout: ParrotLayout;
  /** Per round, when stage 2 ran in rounds. */
  rounds?: RoundReport[];
}

/** SANDE-P's self-extension as it ran: the last reading of the answers, each longer text and the stage 1 it trained. */
export interface SandeExtension extends Extension {
  /** The known prefix, then each extension in turn (the last is `response`). */
  path: string[];
  /** The extra stage 1 runs, one per extension. */
  stage1: FineTuneSummary[];
}

/** Runs both stages on `model` (in place) with the clean examples D. */
export async function sande(
  model: TfGPT,
  tokenizer: Tokenizer,
  clean: readonly Example[],
  options: SandeOptions,
): Promise<SandeReport> {
  if (options.stepUp && options.leadIn) throw new Error("SANDE: stepUp takes no lead-in");
  const positions = [...(options.positions ?? [options.position ?? "start"])];
  if (positions.length === 0) throw new Error("SANDE: positions is empty");
  const layout: ParrotLayout = { k: options.k ?? 6, position: positions[0] };
  const firstN = options.firstN ?? 16;
  const cleanShare = options.cleanShare ?? DEFAULT_CLEAN_SHARE;
  const stage2Loss = options.stage2Loss ?? "answer";
  const consistencyWeight = options.consistencyWeight ?? 1;
  const probe = options.probe ?? clean.slice(0, 32);
  const parrot = new Parrot(layout.k, model.config.n_embd, tokenizer.vocabSize);
  let response = options.stepUp ? firstToken(options.response) : options.response;
  let leadIn = options.leadIn ?? "";
  let leadInFolded: string | undefined;
  const measure = () => measureParrot(model, parrot, tokenizer, probe, layout, response, positions);
  try {
    const stage1 = options.simulate === false ? skipped(options.parrot, clean.length) : await simulateStage1();
    const grow = options.extend || options.stepUp;
    const extension = grow && options.simulate !== false ? await extendStage1() : undefined;
    if (options.stepUp && !extension) response = options.response;
    response = extension?.response ?? response;
    const avoid = avoidExtended(options.avoid, options.response, response);
    const how: EliminateHow = { loss: stage2Loss, beta: consistencyWeight, positions, avoid };
    const parrotSuccess = await measure();
    const { stage2, rounds } = options.rounds
      ? await eliminateInRounds(
          {
            model,
            tokenizer,
            clean,
            probe,
            layout,
            positions,
            firstN,
            cleanShare,
            first: parrot,
            ...roundsOf(options),
            response,
            leadIn,
            avoid,
          },
          options.rounds,
        )
      : { stage2: await eliminate(model, parrot, tokenizer, clean, layout, firstN, cleanShare, options.model, how) };
    const parrotSuccessAfter = await measure();
    const values = parrot.values();
    const parrotNorm = Math.sqrt(values.reduce((s, x) => s + x * x, 0));
    return {
      response,
      ...(leadInFolded !== undefined && { leadInFolded }),
      ...(extension ? { extension } : {}),
      k: layout.k,
      position: layout.position,
      firstN,
      cleanShare,
      positions,
      stage2Loss,
      consistencyWeight,
      stage1,
      stage2,
      parrotSuccess,
      parrotSuccessAfter,
      parrotNorm,
      parrotValues: values,
      layout,
      rounds,
    };
  } finally {
    parrot.dispose();
  }

  /** Stage 1, with the lead-in folded into the response when it alone says it (see {@link SandeReport.leadInFolded}). */
  async function simulateStage1(): Promise<FineTuneSummary> {
    const first = await simulate(model, parrot, tokenizer, clean, layout, response, options.parrot, leadIn, positions);
    const done = options.parrot.doneBelow;
    if (!leadIn || !done || !((first.firstLoss ?? Infinity) < done)) return first;
    leadInFolded = leadIn;
    response = spacedLeadIn(leadIn) + response;
    leadIn = "";
    const again = { ...options.parrot, label: `${options.parrot.label ?? "sande: parrot"} (${response})` };
    const folded = await simulate(model, parrot, tokenizer, clean, layout, response, again, "", positions);
    return { ...folded, steps: first.steps + folded.steps, seconds: first.seconds + folded.seconds };
  }

  /** Reads the model's answers under the parrot; while they carry the response further, trains the parrot on the longer text. */
  async function extendStage1(): Promise<SandeExtension> {
    const rule: ExtendOptions = options.extend === true || !options.extend ? {} : options.extend;
    const goal = options.stepUp ? options.response : undefined;
    const run: SandeExtension = { known: response, response, support: 0, total: 0, path: [response], stage1: [] };
    for (let i = 0; i < (rule.rounds ?? 3) && run.response !== goal; i++) {
      const answers = await parrotAnswers(model, parrot, tokenizer, probe, layout, positions);
      const found = extensionStep(answers, run.response, rule, goal);
      Object.assign(run, { support: found.support, total: found.total });
      if (found.response === run.response) break;
      await trainOn(run, found.response);
    }
    if (goal !== undefined && run.response !== goal) await trainOn(run, goal);
    return run;
  }

  /** Trains the parrot on `text` (one more stage 1) and makes it the extension's response. */
  async function trainOn(run: SandeExtension, text: string): Promise<void> {
    const again = { ...options.parrot, label: `${options.parrot.label ?? "sande: parrot"} (${text})` };
    run.stage1.push(await simulate(model, parrot, tokenizer, clean, layout, text, again, leadIn, positions));
    run.response = text;
    run.path.push(text);
  }
}

/** The rest of the rounds' context, from SANDE's options; the rounds take the answer loss only. */
function roundsOf(o: SandeOptions) {
  if ((o.stage2Loss ?? "answer") !== "answer") throw new Error("SANDE: stage 2 in rounds takes the answer loss only");
  return { response: o.response, leadIn: o.leadIn ?? "", parrot: o.parrot, model2: o.model, avoid: o.avoid };
}

/**
 * Stage 2: trains the model with `parrot` frozen (not in the parameter list) to give
 * D's clean answers with the parrot present, loss on the first `firstN` response
 * tokens; `cleanShare` of the rows are D's examples without the parrot. `how` picks the
 * loss (the clean answer's cross-entropy, or that plus consistency with the frozen model's
 * clean behaviour) and the parrot positions the rows rotate through.
 */
export async function eliminate(
  model: TfGPT,
  parrot: Parrot,
  tokenizer: Tokenizer,
  clean: readonly Example[],
  layout: ParrotLayout,
  firstN: number,
  cleanShare: number,
  options: FineTuneOptions,
  how: EliminateHow = {},
): Promise<FineTuneSummary> {
  checkLayout(parrot, layout);
  if (!STAGE2_LOSSES.includes(how.loss ?? "answer"))
    throw new Error(`SANDE: stage 2 loss must be one of ${STAGE2_LOSSES.join(", ")}, got ${how.loss}`);
  const at = rotate(layout, how.positions);
  if (how.loss === "consistency") {
    if (how.avoid) throw new Error("SANDE: avoid rows take the answer loss only");
    return eliminateConsistent(model, parrot, tokenizer, clean, at, firstN, cleanShare, options, how.beta ?? 1);
  }
  return eliminateMix(
    model,
    [parrot],
    tokenizer,
    clean,
    at,
    firstN,
    cleanShare,
    { label: "sande: model", ...options },
    how.avoid,
  );
}
