/**
 * From a validated request to generation settings, once the model is known: the
 * request's logit hooks (logit_bias, checked against the vocabulary; penalties), the
 * sampling knobs as inference takes them, and each choice's seed.
 */
import { chainMasks, logitBias, penalties, type LogitMask } from "../../shared/inference/index.js";
import { ApiError } from "./errors.js";
import type { SamplingFields } from "./sampling-fields.js";

/** Generation settings shared by every choice of a request. */
export interface SamplingPlan {
  temperature: number;
  topP: number;
  stop: readonly string[];
  /** logit_bias and penalties as one hook; undefined when the request has neither. */
  logitMask?: LogitMask;
  /** Choice i samples with seed + i (same seed and parameters, same choices). */
  seed: number;
}

/** Resolves `request`'s sampling fields for a model with `vocabSize` tokens; a 400 for a logit_bias id outside it. */
export function samplingPlan(request: SamplingFields, vocabSize: number): SamplingPlan {
  for (const id of request.logitBias.keys()) checkTokenId(id, vocabSize, `logit_bias.${id}`);
  return {
    // top_p 0 is nucleus sampling's limit: the most likely token, i.e. greedy.
    temperature: request.topP === 0 ? 0 : request.temperature,
    topP: request.topP === 0 ? 1 : request.topP,
    stop: request.stop,
    logitMask: chainMasks(
      request.logitBias.size > 0 ? logitBias(request.logitBias) : undefined,
      penalties({ presence: request.presencePenalty, frequency: request.frequencyPenalty }),
    ),
    seed: request.seed ?? randomSeed(),
  };
}

/** Throws a 400 `invalid_token_id` naming `param` unless `id` is in [0, vocabSize). */
export function checkTokenId(id: number, vocabSize: number, param: string): void {
  if (!(id >= 0 && id < vocabSize))
    throw ApiError.invalid(
      `'${param}': token id ${id} is not in this model's vocabulary (ids 0 to ${vocabSize - 1}).`,
      param,
      "invalid_token_id",
    );
}

function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
