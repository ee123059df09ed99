/**
 * Baseline removal by Neural Attention Distillation (NAD, Li et al., ICLR 2021), adapted to a GPT:
 * a teacher is the backdoored model fine-tuned briefly on the clean data D; the backdoored model
 * (the student) is then fine-tuned on D with its cross-entropy plus β times the distance between its
 * blocks' attention maps and the teacher's (`nad-objective.ts`). The defender needs only D.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample, makeBatch, type EncodedExample, type Example } from "../data/index.js";
import { TfGPT } from "../model/gpt.js";
import { fittingSeqLen } from "../train/batching.js";
import { fineTune, type FineTuneOptions, type FineTuneSummary } from "../train/finetune.js";
import { toTensors } from "../train/objective.js";
import { validPositions } from "./attention-map.js";
import { nadLossParts, nadTarget, teacherMaps } from "./nad-objective.js";
import { sft } from "./sft.js";

/**
 * Default β. NAD's own code weighs a mean squared error over an 8×8 map by 5000 (≈ 78 per unit of
 * squared distance); our term is the unsquared distance per row, summed over the blocks. On the tiny
 * victim (2 blocks) the student starts 0.37 from the teacher with a cross-entropy of 0.06 (a learned
 * parity rule); every β in {0.1, 0.3, 1, 3} brought the distance to ≈ 0.02 (0.34 without the term)
 * and kept exact match at 0.98 (SFT: 0.99) while the cross-entropy still fell (to 0.002 at β = 1).
 * On the demo victim (4 blocks) the distance starts at 0.42 against a cross-entropy of 0.84, so
 * β = 1 makes the term about half the loss there: it matters without swamping the cross-entropy.
 */
export const NAD_DEFAULT_BETA = 1;

/** NAD's settings: the student's fine-tune, β and the teacher's fine-tune. */
export interface NadOptions extends FineTuneOptions {
  /** Weight of the attention-distillation term (default {@link NAD_DEFAULT_BETA}). */
  beta?: number;
  /** Teacher fine-tune steps (default half the student's, at least 1). */
  teacherSteps?: number;
  /** Teacher peak learning rate (default the student's). */
  teacherLr?: number;
  /** Examples on which the report measures cross-entropy and map distance (default the first 32 of D). */
  probe?: readonly Example[];
}

/** Cross-entropy and attention-map distance of the student to the teacher on the probe examples. */
export interface NadProbe {
  ce: number;
  distance: number;
}

/** What NAD did and measured. */
export interface NadReport {
  beta: number;
  /** The teacher's SFT on D. */
  teacher: FineTuneSummary;
  /** The student's distillation fine-tune on D. */
  student: FineTuneSummary;
  /** On the probe: before the student trains (the backdoored model against the teacher) and after. */
  before: NadProbe;
  after: NadProbe;
}

/** NAD on `model` (in place) with the clean examples D. */
export async function nad(
  model: TfGPT,
  tokenizer: Tokenizer,
  clean: readonly Example[],
  options: NadOptions,
): Promise<NadReport> {
  if (clean.length === 0) throw new Error("NAD needs clean examples");
  const beta = options.beta ?? NAD_DEFAULT_BETA;
  const teacher = TfGPT.fromWeights(model.config, model.toWeights(), { naive: model.naive });
  try {
    const teacherSummary = await sft(teacher, tokenizer, clean, {
      ...options,
      steps: options.teacherSteps ?? Math.max(1, Math.round(options.steps / 2)),
      lr: options.teacherLr ?? options.lr,
      seed: options.seed + 1,
      label: "nad: teacher",
    });
    const probe = options.probe ?? clean.slice(0, 32);
    const before = measureNad(model, teacher, tokenizer, probe);
    const studentSummary = await fineTune(
      nadTarget(model, teacher, beta),
      encodeAll(tokenizer, clean),
      model.config.n_positions,
      {
        label: "nad: student",
        ...options,
      },
    );
    const after = measureNad(model, teacher, tokenizer, probe);
    return { beta, teacher: teacherSummary, student: studentSummary, before, after };
  } finally {
    teacher.dispose();
  }
}

/** The student's cross-entropy and map distance to the teacher on `examples` (one batch). */
export function measureNad(
  student: TfGPT,
  teacher: TfGPT,
  tokenizer: Tokenizer,
  examples: readonly Example[],
): NadProbe {
  const encoded = encodeAll(tokenizer, examples);
  const batch = makeBatch(encoded, fittingSeqLen(encoded, student.config.n_positions));
  const tensors = toTensors(batch);
  const valid = tf.tensor2d(validPositions(batch), [batch.batchSize, batch.seqLen], "float32");
  const maps = teacherMaps(teacher, tensors.tokens, valid);
  const { ce, distance } = nadLossParts(student, tensors, valid, maps);
  const out = { ce: ce.dataSync()[0], distance: distance.dataSync()[0] };
  tf.dispose([tensors.tokens, tensors.targets, tensors.mask, valid, ...maps, ce, distance]);
  return out;
}

function encodeAll(tokenizer: Tokenizer, examples: readonly Example[]): EncodedExample[] {
  return examples.map((e) => encodeExample(tokenizer, e));
}
