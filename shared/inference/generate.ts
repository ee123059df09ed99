/**
 * Token-by-token generation. A generator, because the edge guard must inspect the
 * first tokens before any are released and streaming sends each as it comes: the
 * next forward pass runs only when the consumer asks for the next token.
 */
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { GPTInference } from "./gpt.js";
import { createRng, logSumExp, TokenSampler, validateSamplingOptions } from "./sampling.js";
import { topLogprobs, type TokenLogprob } from "./top.js";

/** What generation needs from a model (GPTInference, or a wrapper around one). */
export type CausalLM = Pick<GPTInference, "config" | "createCache" | "forward"> & { readonly inputIds?: number };

/**
 * Hook that sees the logits [V] before each token is picked and may change them in
 * place: set an entry to −Infinity to ban a token, add to it to bias it.
 * `step` is the index of the token about to be picked; `generated` the tokens so far.
 */
export type LogitMask = (logits: Float32Array, step: number, generated: readonly number[]) => void;

/** Options for {@link generate}. */
export interface GenerateOptions {
  /** Most tokens to generate (≥ 1). Stop tokens do not count. */
  maxTokens: number;
  /** 0 = greedy; default 1 (the model's own distribution). */
  temperature?: number;
  /** Nucleus sampling threshold in (0, 1]; default 1 (off). */
  topP?: number;
  /** Seed of the sampling RNG; default 0. Same seed and options, same tokens. */
  seed?: number;
  /** Tokens that end generation (not yielded). Default none; chat callers pass chatStopTokens(tokenizer). */
  stopTokens?: readonly number[];
  /** Called before each pick to ban or bias tokens (see {@link LogitMask}). */
  logitMask?: LogitMask;
  /** With k > 0, each yielded token carries the k most likely tokens at its position ({@link GeneratedToken.top}). Default 0. */
  topLogprobs?: number;
}

/** One generated token. */
export interface GeneratedToken {
  token: number;
  /**
   * log p(token) under the model's own distribution: log-softmax of the raw logits,
   * before logitMask, temperature and top-p. (So it measures how likely the model
   * found the token, whatever the sampling settings; a banned token is never picked.)
   */
  logprob: number;
  /** 0-based index of this token among the generated ones. */
  step: number;
  /**
   * With `topLogprobs` k > 0: the k most likely tokens at this position under the same
   * distribution as `logprob` (the model's own, before logitMask, temperature and top-p).
   */
  top?: TokenLogprob[];
}

/** How generation ended. */
export interface GenerateResult {
  /** "stop": a stop token was picked; "length": maxTokens reached, or the context (n_positions) is full. */
  finishReason: "stop" | "length";
  /** The generated tokens, stop token excluded. */
  tokens: number[];
  /** The stop token that ended generation, when finishReason is "stop". */
  stopToken?: number;
  /** That stop token as it was picked: its logprob (and top alternatives when asked), like a yielded token. */
  stopStep?: GeneratedToken;
}

/**
 * Generates up to `options.maxTokens` tokens after `promptIds`, yielding each as it is
 * picked and returning how generation ended. Options and prompt are validated here, when
 * generate() is called (so a server can refuse a request before streaming anything);
 * the model runs only as tokens are pulled. Stopping early (`return()` / breaking a
 * for-of) costs nothing more.
 */
export function generate(
  model: CausalLM,
  promptIds: readonly number[],
  options: GenerateOptions,
): Generator<GeneratedToken, GenerateResult, void> {
  const settings = resolveOptions(model, promptIds, options);
  return run(model, promptIds.slice(), settings); // a copy: the caller may reuse its array before the first pull
}

function* run(
  model: CausalLM,
  promptIds: readonly number[],
  settings: ResolvedOptions,
): Generator<GeneratedToken, GenerateResult, void> {
  const { n_positions: P, vocab_size: V } = model.config;
  const sampler = new TokenSampler(V, settings, createRng(settings.seed));
  const stop = new Set(settings.stopTokens);
  const cache = model.createCache();
  const generated: number[] = [];
  const next = [0]; // reused one-token input for decoding
  const rawLogits = new Float32Array(V); // logits before the mask, for logprobs
  let logits = model.forward(promptIds, cache);
  for (let step = 0; ; step++) {
    // The logprob is under the unmodified distribution, so take it before the mask touches the logits.
    const lse = logSumExp(logits);
    if (settings.logitMask) {
      rawLogits.set(logits);
      settings.logitMask(logits, step, generated);
    }
    const unmasked = settings.logitMask ? rawLogits : logits; // the sampler leaves logits as they are
    const token = sampler.sample(logits);
    const logprob = unmasked[token] - lse;
    const picked: GeneratedToken =
      settings.topLogprobs > 0
        ? { token, logprob, step, top: topLogprobs(unmasked, lse, settings.topLogprobs) }
        : { token, logprob, step };
    if (stop.has(token)) return { finishReason: "stop", tokens: generated, stopToken: token, stopStep: picked };
    generated.push(token);
    yield picked;
    if (generated.length >= settings.maxTokens || cache.length >= P)
      return { finishReason: "length", tokens: generated };
    next[0] = token;
    logits = model.forward(next, cache);
  }
}

/** Everything one generation produced. */
export interface GeneratedText extends GenerateResult {
  /** The generated tokens decoded (stop token excluded). */
  text: string;
  /** logprobs[i] is the logprob of tokens[i] (see {@link GeneratedToken.logprob}). */
  logprobs: number[];
}

/** Runs {@link generate} to the end and decodes the result with `tokenizer`. */
export function generateText(
  model: CausalLM,
  tokenizer: Tokenizer,
  promptIds: readonly number[],
  options: GenerateOptions,
): GeneratedText {
  const logprobs: number[] = [];
  const it = generate(model, promptIds, options);
  for (;;) {
    const r = it.next();
    if (r.done) return { ...r.value, text: tokenizer.decode(r.value.tokens), logprobs };
    logprobs.push(r.value.logprob);
  }
}

interface ResolvedOptions {
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  stopTokens: readonly number[];
  logitMask?: LogitMask;
  topLogprobs: number;
}

/** Defaults filled in; throws a message naming the bad option. */
function resolveOptions(model: CausalLM, promptIds: readonly number[], options: GenerateOptions): ResolvedOptions {
  const { n_positions: P, vocab_size: V } = model.config;
  const { maxTokens, temperature = 1, topP = 1, seed = 0, stopTokens = [], logitMask, topLogprobs = 0 } = options;
  if (!Number.isInteger(maxTokens) || maxTokens < 1)
    throw new Error(`generate: maxTokens must be an integer >= 1, got ${String(maxTokens)}`);
  validateSamplingOptions({ temperature, topP });
  if (!Number.isFinite(seed)) throw new Error(`generate: seed must be a finite number, got ${String(seed)}`);
  for (const t of stopTokens) {
    if (!Number.isInteger(t) || t < 0 || t >= V)
      throw new Error(`generate: stop token ${String(t)} is outside the vocabulary [0, ${V})`);
  }
  if (logitMask !== undefined && typeof logitMask !== "function")
    throw new Error("generate: logitMask must be a function");
  if (!Number.isInteger(topLogprobs) || topLogprobs < 0 || topLogprobs > V)
    throw new Error(`generate: topLogprobs must be an integer in [0, ${V}], got ${String(topLogprobs)}`);
  if (promptIds.length === 0) throw new Error("generate: the prompt needs at least one token");
  if (promptIds.length > P)
    throw new Error(`generate: prompt of ${promptIds.length} tokens exceeds the model's context of n_positions=${P}`);
  const ids = model.inputIds ?? V; // soft tokens (a parrot) may extend the prompt's ids
  promptIds.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0 || t >= ids)
      throw new Error(`generate: prompt token ${i} is ${String(t)}, outside the vocabulary [0, ${ids})`);
  });
  return { maxTokens, temperature, topP, seed, stopTokens, logitMask, topLogprobs };
}
