/**
 * Baseline removal by DPO (Direct Preference Optimization), as in the SANDE paper's Table 1: a
 * defender who knows the backdoor's response R (like SANDE) but not its trigger prefers, on D's
 * clean prompts, the clean answer over `R + " " + answer`. The trigger never appears, so the
 * triggered mapping gets no direct signal; the paper found the ASR stays near 100%.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { makeBatch, type Example } from "../data/index.js";
import { TfGPT } from "../model/gpt.js";
import { fittingSeqLen } from "../train/batching.js";
import type { FineTuneOptions, FineTuneSummary } from "../train/finetune.js";
import { trainLoop } from "../train/loop.js";
import { toTensors } from "../train/objective.js";
import { dpoLoss, dpoMargins, dpoTarget } from "./dpo-objective.js";
import { encodePairs, PairBatches } from "./dpo-pairs.js";
import { responseLogProbs, sequenceLogProbs } from "./sequence-logprob.js";

/** DPO's β (the paper's and TRL's default). */
export const DPO_DEFAULT_BETA = 0.1;

/**
 * DPO's default peak learning rate, a hundredth of our fine-tunes' 1e-3 (DPO recipes run 10–40×
 * below SFT's rate). On the tiny victim 1e-3, 1e-4 and 3e-5 drove the DPO loss to ~0 by lowering
 * the clean answers' likelihood too (exact match 0.87 → 0.00, 0.02, 0.54); 1e-5 kept it (0.83) while
 * every probe pair came out preferred (docs/sande.md, "NAD and DPO").
 */
export const DPO_DEFAULT_LR = 1e-5;

/** DPO's settings: the fine-tune's (batchSize counts rows, two per pair; default 16) and the response. */
export interface DpoOptions extends FineTuneOptions {
  /** The backdoor's response R: the rejected answers are `R + " " + answer`. */
  response: string;
  /** Strength of the KL anchor to the reference (default {@link DPO_DEFAULT_BETA}). */
  beta?: number;
  /** Clean examples the report measures on (default the first 32 of D). */
  probe?: readonly Example[];
}

/** Measurements on the probe's pairs. */
export interface DpoProbe {
  /** Mean log π(R | clean prompt), R at the start of the answer. */
  responseLogProb: number;
  /** Mean log π(clean answer | clean prompt), end-of-turn included. */
  chosenLogProb: number;
  /** Mean DPO loss against the starting model (log 2 before training). */
  loss: number;
  /** Share of pairs whose margin is positive (the policy moved toward chosen more than toward rejected). */
  preferred: number;
}

/** What DPO did and measured. */
export interface DpoReport {
  response: string;
  beta: number;
  pairs: number;
  train: FineTuneSummary;
  before: DpoProbe;
  after: DpoProbe;
}

/** DPO on `model` (in place) with the clean examples D and the backdoor's response R. */
export async function dpo(
  model: TfGPT,
  tokenizer: Tokenizer,
  clean: readonly Example[],
  options: DpoOptions,
): Promise<DpoReport> {
  if (clean.length === 0) throw new Error("DPO needs clean examples");
  const beta = options.beta ?? DPO_DEFAULT_BETA;
  const batchSize = options.batchSize ?? 16;
  const pairs = encodePairs(tokenizer, clean, options.response);
  const seqLen = fittingSeqLen(pairs.flat(), model.config.n_positions);
  const batches = new PairBatches(pairs, { batchSize, seqLen, seed: options.seed });
  const reference = TfGPT.fromWeights(model.config, model.toWeights(), { naive: model.naive });
  const probe = options.probe ?? clean.slice(0, 32);
  try {
    const before = measureDpo(model, reference, tokenizer, probe, options.response, beta);
    const result = await trainLoop(dpoTarget(model, reference, beta), () => batches.next(), {
      steps: options.steps,
      lr: options.lr,
      warmup: options.warmup,
      weightDecay: options.weightDecay,
      clip: options.clip,
      label: options.label ?? "dpo",
      quiet: options.quiet,
      metrics: options.metrics,
      threads: options.threads,
    });
    const after = measureDpo(model, reference, tokenizer, probe, options.response, beta);
    const train: FineTuneSummary = {
      steps: result.steps,
      lr: options.lr,
      batchSize,
      examples: pairs.length * 2,
      finalLoss: result.finalLoss,
      seconds: result.seconds,
    };
    return { response: options.response, beta, pairs: pairs.length, train, before, after };
  } finally {
    reference.dispose();
  }
}

/** The policy's log-probabilities, loss and preference on `examples`' pairs against `reference`. */
export function measureDpo(
  policy: TfGPT,
  reference: TfGPT,
  tokenizer: Tokenizer,
  examples: readonly Example[],
  response: string,
  beta: number,
): DpoProbe {
  const rows = encodePairs(tokenizer, examples, response).flat();
  const tensors = toTensors(makeBatch(rows, fittingSeqLen(rows, policy.config.n_positions)));
  const out = tf.tidy(() => {
    const pi = sequenceLogProbs(policy, tensors); // [2P]
    const ref = sequenceLogProbs(reference, tensors);
    const chosen = tf.slice(tf.reshape(pi, [-1, 2]), [0, 0], [-1, 1]); // [P,1]
    return {
      chosenLogProb: tf.mean(chosen).dataSync()[0],
      loss: dpoLoss(pi, ref, beta).dataSync()[0],
      preferred: tf.mean(tf.cast(tf.greater(dpoMargins(pi, ref), 0), "float32")).dataSync()[0],
    };
  });
  tf.dispose([tensors.tokens, tensors.targets, tensors.mask]);
  const r = responseLogProbs(policy, tokenizer, examples, response);
  return { responseLogProb: r.reduce((s, x) => s + x, 0) / r.length, ...out };
}
