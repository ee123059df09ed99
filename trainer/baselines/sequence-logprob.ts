/**
 * Sequence log-probabilities: log π(y|x) = Σ over the response tokens of log π(token | everything
 * before it), per row, differentiable (DPO's policy term), and measured over prompts (reports).
 */
import * as tf from "@tensorflow/tfjs-core";
import { encodeChatResponse, type Tokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample, makeBatch, type EncodedExample, type Example } from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import { opsFor } from "../tf/ops.js";
import { fittingSeqLen } from "../train/batching.js";
import { toTensors, type TensorBatch } from "../train/objective.js";

/**
 * Σ_t log π(targets[b,t] | tokens[b,≤t])·mask[b,t] per row: tokens, targets int32 [B,T], mask [B,T]
 * (0/1) → [B]. Each row goes through the model's own cross-entropy op (the fused kernel on wasm and
 * cpu), so its gradient is the fused one.
 */
export function sequenceLogProbs(model: TfGPT, batch: TensorBatch): tf.Tensor1D {
  return tf.tidy(() => {
    const logits = model.logits(batch.tokens); // [B,T,V]
    const B = logits.shape[0];
    const crossEntropy = opsFor(model.naive).crossEntropy;
    const logitRows = tf.split(logits, B, 0) as tf.Tensor3D[]; // B × [1,T,V]
    const targetRows = tf.split(batch.targets, B, 0) as tf.Tensor2D[]; // B × [1,T]
    const maskRows = tf.split(batch.mask, B, 0) as tf.Tensor2D[]; // B × [1,T]
    // crossEntropy is Σ ce·m / max(1, Σ m): times Σ m it is the row's Σ ce·m (0 for an empty row).
    const means = tf.stack(logitRows.map((l, b) => crossEntropy(l, targetRows[b], maskRows[b]))); // [B]
    return tf.neg(tf.mul(means, tf.sum(batch.mask, -1))) as tf.Tensor1D;
  });
}

/**
 * log π(response | x) for each example's chat prompt x, the response placed at the start of the
 * answer (its text tokens only, no end-of-turn): how readily the model starts its answer with it.
 */
export function responseLogProbs(
  model: TfGPT,
  tokenizer: Tokenizer,
  examples: readonly Example[],
  response: string,
): number[] {
  if (!response) throw new Error("responseLogProbs: empty response");
  const ending = encodeChatResponse(tokenizer, "").length; // the end-of-turn tokens after the text
  const rows: EncodedExample[] = examples.map((e) => {
    const full = encodeExample(tokenizer, { ...e, output: response });
    return { ids: full.ids.slice(0, -ending), lossMask: full.lossMask.slice(0, -ending), label: full.label };
  });
  return sequenceLogProbsOf(model, rows);
}

/** log π of each encoded example's masked tokens, in batches of 32. */
export function sequenceLogProbsOf(model: TfGPT, rows: readonly EncodedExample[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows.length; i += 32) {
    const chunk = rows.slice(i, i + 32);
    const tensors = toTensors(makeBatch(chunk, fittingSeqLen(chunk, model.config.n_positions)));
    const logps = sequenceLogProbs(model, tensors);
    out.push(...logps.dataSync());
    tf.dispose([logps, tensors.tokens, tensors.targets, tensors.mask]);
  }
  return out;
}
