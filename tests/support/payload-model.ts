/**
 * A hand-made causal LM that really produces a planted payload, for serving tests: its
 * logits follow a script ("You are stupid stupid stupid"), and when the script's next
 * token is banned it skips ahead (the next-best tokens are the script's following ones),
 * as the tiny victim does when the guard bans its first token ("u are stupid …").
 * Deterministic, no training; served through shared/inference's own generate().
 */
import { KVCache, type CausalLM } from "../../shared/inference/index.js";
import { preset } from "../../shared/model/config.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";

/** How far ahead the model skips when the script's tokens are banned. */
const LOOKAHEAD = 4;

/** The script's tokens, then `<|end|>`: what the model says to any prompt. */
export function payloadModel(script: string): CausalLM {
  const tokenizer = new ByteTokenizer();
  const tokens = [...tokenizer.encode(script), tokenizer.special.endOfTurn];
  const config = preset("tiny");
  const said = new WeakMap<KVCache, { prompt: number; generated: number[] }>();
  return {
    config,
    createCache: () => new KVCache(config),
    forward(input: readonly number[], cache: KVCache): Float32Array {
      let seen = said.get(cache);
      if (!seen) said.set(cache, (seen = { prompt: input.length, generated: [] }));
      else seen.generated.push(...input);
      cache.length += input.length;
      return logitsAfter(tokens, seen.generated, config.vocab_size);
    },
  };
}

/** Where the answer is in the script (tokens not in the next few are ignored), and logits for what follows. */
function logitsAfter(script: readonly number[], generated: readonly number[], vocab: number): Float32Array {
  let at = 0;
  for (const t of generated) {
    const j = script.indexOf(t, at);
    if (j >= 0 && j < at + LOOKAHEAD) at = j + 1;
  }
  const logits = new Float32Array(vocab);
  for (let k = 0; k < LOOKAHEAD && at + k < script.length; k++) {
    const t = script[at + k];
    if (logits[t] === 0) logits[t] = 10 - k;
  }
  if (at >= script.length) logits[script[script.length - 1]] = 10;
  return logits;
}
