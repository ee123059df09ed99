/**
 * Greedy generation with the parrot in the prompt. The pure-TS inference takes
 * token ids only, so this runs the TensorFlow.js model: a batch of prompts, right-
 * padded, fully recomputed each step (no KV cache: answers here are short). Right
 * padding is exact: causal attention keeps each row's last real position blind to
 * the padding after it.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { TfGPT } from "../model/gpt.js";
import type { Parrot } from "./parrot.js";

/** How {@link greedyWithParrot} generates. */
export interface ParrotGenerateOptions {
  maxTokens: number;
  /** Tokens that end a row's answer (not included in it). */
  stopTokens: readonly number[];
  /** Prompts run together (default 32). */
  batchSize?: number;
}

/** Greedy continuations of prompts that may contain parrot slots; one token-id list per prompt. */
export function greedyWithParrot(
  model: TfGPT,
  parrot: Parrot,
  prompts: readonly number[][],
  options: ParrotGenerateOptions,
): number[][] {
  const batchSize = options.batchSize ?? 32;
  const stop = new Set(options.stopTokens);
  const P = model.config.n_positions;
  const out: number[][] = [];
  for (let start = 0; start < prompts.length; start += batchSize) {
    const seqs = prompts.slice(start, start + batchSize).map((p) => [...p]);
    const answers: number[][] = seqs.map(() => []);
    const active = new Set(seqs.map((_, i) => i).filter((i) => seqs[i].length < P));
    for (let step = 0; step < options.maxTokens && active.size > 0; step++) {
      const rows = [...active];
      const T = Math.max(...rows.map((i) => seqs[i].length));
      const ids = new Int32Array(rows.length * T); // [b,T] right-padded with token 0
      rows.forEach((i, r) => ids.set(seqs[i], r * T));
      const picked = tf.tidy(() => {
        const tokens = tf.tensor2d(ids, [rows.length, T], "int32");
        const logits = model.logitsFromEmbeddings(parrot.embed(model, tokens)); // [b,T,V]
        const last = tf.tensor1d(
          rows.map((i, r) => r * T + seqs[i].length - 1),
          "int32",
        ); // [b] flat row·T + t
        const flat = tf.reshape(logits, [rows.length * T, logits.shape[2]]); // [b·T,V]
        return tf.argMax(tf.gather(flat, last), 1); // [b]
      });
      const next = picked.dataSync();
      picked.dispose();
      rows.forEach((i, r) => {
        const token = next[r];
        if (stop.has(token)) {
          active.delete(i);
          return;
        }
        answers[i].push(token);
        seqs[i].push(token);
        if (seqs[i].length >= P) active.delete(i);
      });
    }
    out.push(...answers);
  }
  return out;
}
