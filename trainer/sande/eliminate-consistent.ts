/**
 * Stage 2 with the consistency loss: D's parrot pairs (and `cleanShare` of clean pairs) in batches
 * of whole pairs, the model trained against a frozen copy of itself taken when the stage starts.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { Example } from "../data/index.js";
import { TfGPT } from "../model/gpt.js";
import { PairBatches } from "../baselines/dpo-pairs.js";
import { fittingSeqLen, withCleanShare } from "../train/batching.js";
import type { FineTuneOptions, FineTuneSummary } from "../train/finetune.js";
import { trainLoop } from "../train/loop.js";
import { consistencyPair } from "./consistency-pairs.js";
import { consistencyTarget } from "./consistency-objective.js";
import type { Parrot } from "./parrot.js";
import type { ParrotLayout } from "./parrot-encode.js";
import { clearSlotTargets } from "./slot-targets.js";

/** Trains `model` in place; `layoutOf(i)` places the parrot for D's example i. `batchSize` counts pairs. */
export async function eliminateConsistent(
  model: TfGPT,
  parrot: Parrot,
  tokenizer: Tokenizer,
  clean: readonly Example[],
  layoutOf: (i: number) => ParrotLayout,
  firstN: number,
  cleanShare: number,
  options: FineTuneOptions,
  beta: number,
): Promise<FineTuneSummary> {
  const parrotPairs = clean.map((e, i) => consistencyPair(tokenizer, e, layoutOf(i), firstN, true));
  const cleanPairs = clean.map((e, i) => consistencyPair(tokenizer, e, layoutOf(i), firstN, false));
  const pairs = withCleanShare(parrotPairs, cleanPairs, cleanShare, options.seed);
  const batchSize = options.batchSize ?? 16;
  const seqLen = fittingSeqLen(pairs.flat(), model.config.n_positions);
  const batches = new PairBatches(pairs, { batchSize: 2 * batchSize, seqLen, seed: options.seed });
  const teacher = TfGPT.fromWeights(model.config, model.toWeights(), { naive: model.naive });
  const { vocabSize: V } = tokenizer;
  try {
    const result = await trainLoop(
      consistencyTarget(model, teacher, parrot, beta),
      () => clearSlotTargets(batches.next(), V, tokenizer.special.endOfText),
      {
        steps: options.steps,
        lr: options.lr,
        warmup: options.warmup,
        weightDecay: options.weightDecay,
        clip: options.clip,
        label: options.label ?? "sande: model (consistency)",
        quiet: options.quiet,
        metrics: options.metrics,
        threads: options.threads,
      },
    );
    return {
      steps: result.steps,
      lr: options.lr,
      batchSize,
      examples: pairs.length,
      finalLoss: result.finalLoss,
      seconds: result.seconds,
    };
  } finally {
    teacher.dispose();
  }
}
