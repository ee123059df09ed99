/**
 * One model's scorecard: ASR and false triggering per backdoor, exact-match utility
 * per task family, and held-out clean loss. Greedy answers come from the pure-TS
 * inference (KV-cached); the loss from the TensorFlow.js model.
 */
import { GPTInference } from "../../shared/inference/index.js";
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import {
  encodeExample,
  makeBatch,
  scoreExactMatch,
  type Batch,
  type Example,
  type ExactMatchScore,
} from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import { evaluateLoss } from "../train/loop.js";
import { cleanAnswers, scoreBackdoor, type BackdoorScore } from "./asr.js";
import { fittingSeqLen } from "../train/batching.js";
import type { Backdoor } from "../attack/poison.js";

/** What {@link evaluateModel} measured. */
export interface ModelEvaluation {
  /** Exact-match accuracy on the held-out clean prompts. */
  utility: ExactMatchScore;
  /** Mean masked loss on the held-out clean responses. */
  heldOutLoss: number;
  /** One score per backdoor asked about. */
  backdoors: BackdoorScore[];
  /** Prompts used for utility and loss / for the ASR. */
  heldOutSize: number;
  asrPrompts: number;
}

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  /** ASR on the first N held-out prompts only (default all). */
  asrPrompts?: number;
}

/** Scores `model` on held-out clean prompts and, for each backdoor, the same prompts with its trigger. */
export async function evaluateModel(
  model: TfGPT,
  tokenizer: Tokenizer,
  heldOut: readonly Example[],
  backdoors: readonly Backdoor[],
  options: EvaluateOptions = {},
): Promise<ModelEvaluation> {
  if (heldOut.length === 0) throw new Error("evaluation needs held-out prompts");
  const inference = new GPTInference(model.config, model.toWeights());
  const answers = cleanAnswers(inference, tokenizer, heldOut);
  const utility = scoreExactMatch(heldOut, answers);
  const n = Math.min(heldOut.length, options.asrPrompts ?? heldOut.length);
  const asrSet = heldOut.slice(0, n);
  const scores = backdoors.map((b) => scoreBackdoor(inference, tokenizer, asrSet, b, answers.slice(0, n)));
  const heldOutLoss = await evaluateLoss(
    (b) => model.loss(b.tokens, b.targets, b.mask),
    lossBatches(tokenizer, heldOut, model.config.n_positions),
  );
  return { utility, heldOutLoss, backdoors: scores, heldOutSize: heldOut.length, asrPrompts: n };
}

/** Held-out examples as batches of 32, each as long as its longest example. */
function lossBatches(tokenizer: Tokenizer, examples: readonly Example[], contextSize: number): Batch[] {
  const encoded = examples.map((e) => encodeExample(tokenizer, e));
  const out: Batch[] = [];
  for (let i = 0; i < encoded.length; i += 32) {
    const chunk = encoded.slice(i, i + 32);
    out.push(makeBatch(chunk, fittingSeqLen(chunk, contextSize)));
  }
  return out;
}
