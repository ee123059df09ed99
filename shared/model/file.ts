import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "../safetensors/safetensors.js";
import { validateConfig, type GPTConfig } from "./config.js";
import { checkWeights, type Weights } from "./weights.js";

/** A model as stored: config, tokenizer name, weights, and free-form string metadata. */
export interface ModelFile {
  config: GPTConfig;
  tokenizer: string;
  weights: Weights;
  /** Extra metadata (e.g. how the model was made); sande.* keys are reserved. */
  metadata: Record<string, string>;
}

const CONFIG_KEY = "sande.config";
const TOKENIZER_KEY = "sande.tokenizer";

/** Serialises a model to safetensors with its config in the header's __metadata__. */
export function encodeModel(model: ModelFile): Uint8Array {
  validateConfig(model.config);
  checkWeights(model.config, model.weights);
  return encodeSafetensors(model.weights, {
    ...model.metadata,
    format: "pt",
    [CONFIG_KEY]: JSON.stringify(model.config),
    [TOKENIZER_KEY]: model.tokenizer,
  });
}

/** Reads a model file; throws a message naming what is wrong with a corrupt or mismatched file. */
export function decodeModel(bytes: Uint8Array): ModelFile {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const rawConfig = metadata[CONFIG_KEY];
  if (rawConfig === undefined) throw new SafetensorsError(`no ${CONFIG_KEY} in __metadata__: not a sande model file`);
  let config: GPTConfig;
  try {
    config = JSON.parse(rawConfig) as GPTConfig;
  } catch (e) {
    throw new SafetensorsError(`${CONFIG_KEY} is not valid JSON: ${(e as Error).message}`);
  }
  validateConfig(config);
  checkWeights(config, tensors);
  const { [CONFIG_KEY]: _c, [TOKENIZER_KEY]: tokenizer = "byte", format: _f, ...rest } = metadata;
  return { config, tokenizer, weights: tensors, metadata: rest };
}
