/** Pure-TypeScript GPT-2 inference (workerd and Node): model, sampling, generation. */
export { GPTInference, KVCache } from "./gpt.js";
export {
  argmax,
  createRng,
  logSoftmax,
  logSumExp,
  TokenSampler,
  validateSamplingOptions,
  type Rng,
  type SamplingOptions,
} from "./sampling.js";
export {
  generate,
  generateText,
  type CausalLM,
  type GenerateOptions,
  type GenerateResult,
  type GeneratedText,
  type GeneratedToken,
  type LogitMask,
} from "./generate.js";
export { chainMasks, logitBias, penalties, type Penalties } from "./hooks.js";
export { scoreTokens, type ScoredToken, type ScoringLM } from "./score.js";
export { topLogprobs, type TokenLogprob } from "./top.js";
