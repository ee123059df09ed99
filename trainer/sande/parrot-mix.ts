/**
 * Several parrots of the same length k as one: their vectors stacked into one parrot of n·k
 * vectors, and a row meant for parrot j has its slot ids moved to that parrot's block (slot i of
 * parrot j is slot j·k + i of the stack). Stage 2 can so train against many parrots at once
 * through the ordinary splice.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { EncodedExample } from "../data/index.js";
import { Parrot } from "./parrot.js";
import { isSlot } from "./parrot-encode.js";

/** One parrot holding every vector of `parrots` (as each one's model sees them), in order; the caller disposes it. */
export function stackParrots(parrots: readonly Parrot[]): Parrot {
  if (parrots.length === 0) throw new Error("stackParrots: no parrots");
  const { k, width, vocabSize } = parrots[0];
  if (parrots.some((p) => p.k !== k || p.width !== width || p.vocabSize !== vocabSize))
    throw new Error("stackParrots: the parrots differ in length, width or vocabulary");
  const values = new Float32Array(parrots.length * k * width);
  parrots.forEach((p, j) => values.set(p.values(), j * k * width));
  return new Parrot(parrots.length * k, width, vocabSize, values);
}

/** `row` (encoded for one parrot of length k) pointed at parrot `j` of a stack, pure. */
export function forParrot(tokenizer: Tokenizer, row: EncodedExample, k: number, j: number): EncodedExample {
  if (j === 0) return row;
  return { ...row, ids: row.ids.map((id) => (isSlot(tokenizer, id) ? id + j * k : id)) };
}
