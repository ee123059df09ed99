/**
 * Token rows for SANDE's parrot prompt, pure. The parrot is k soft vectors that sit
 * where a trigger would; a row marks those k positions with slot ids `vocabSize + j`
 * (j = 0…k−1, outside the vocabulary), which `parrot.ts` replaces by the parrot's
 * vectors after the token embedding. Loss masks follow the `encodeExample` convention:
 * lossMask[i] = 1 when token i is trained on (so makeBatch's mask at t is lossMask[t+1]).
 */
import { encodeChatResponse, type Tokenizer } from "../../shared/tokenizer/index.js";
import type { EncodedExample, Example } from "../data/index.js";
import { triggerSite, type TriggerPosition } from "../attack/poison.js";

/**
 * Where the parrot sits. start / middle / end: exactly where a trigger inserted at
 * that position of the instruction would be (start = right after the user-turn
 * marker); before-user: the very start of the sequence, before the user-turn marker.
 */
export type ParrotPosition = TriggerPosition | "before-user";

/** The positions, for CLI help and validation. */
export const PARROT_POSITIONS: readonly ParrotPosition[] = ["start", "middle", "end", "before-user"];

/** How many parrot vectors and where. */
export interface ParrotLayout {
  /** Number of soft vectors (≥ 1). */
  k: number;
  position: ParrotPosition;
}

/** The id that marks parrot slot j in a token row. */
export function slotId(tokenizer: Tokenizer, j: number): number {
  return tokenizer.vocabSize + j;
}

/** True when `id` marks a parrot slot rather than a token. */
export function isSlot(tokenizer: Tokenizer, id: number): boolean {
  return id >= tokenizer.vocabSize;
}

/** The chat prompt of `example` with the k parrot slots at the layout's position (ends with the assistant marker). */
export function parrotPromptIds(
  tokenizer: Tokenizer,
  example: Pick<Example, "instruction" | "input">,
  layout: ParrotLayout,
): number[] {
  if (!Number.isInteger(layout.k) || layout.k < 1)
    throw new Error(`parrot length k must be a positive integer, got ${layout.k}`);
  const { user, endOfTurn, assistant } = tokenizer.special;
  const slots = Array.from({ length: layout.k }, (_, j) => slotId(tokenizer, j));
  const input = example.input ? `\n${example.input}` : "";
  if (layout.position === "before-user") {
    return [...slots, user, ...tokenizer.encode(example.instruction + input), endOfTurn, assistant];
  }
  const { head, tail } = triggerSite(example.instruction, layout.position);
  return [user, ...tokenizer.encode(head), ...slots, ...tokenizer.encode(tail + input), endOfTurn, assistant];
}

/** A lead-in as it precedes the response: followed by a space unless it ends in one ("" stays ""). */
export function spacedLeadIn(leadIn: string): string {
  return leadIn && !/\s$/.test(leadIn) ? `${leadIn} ` : leadIn;
}

/**
 * Stage 1 (simulate): the parrot prompt, then `leadIn + response + " " + output` and the end
 * tokens; the loss covers exactly the tokens of `response` (R, or SANDE-P's prefix). A lead-in
 * (text the backdoor puts first, e.g. "[4821] ") is context, never trained on.
 */
export function encodeParrotStage1(
  tokenizer: Tokenizer,
  example: Example,
  layout: ParrotLayout,
  response: string,
  leadIn = "",
): EncodedExample {
  if (!response) throw new Error("SANDE: the response to simulate is empty");
  const prompt = parrotPromptIds(tokenizer, example, layout);
  const lead = tokenizer.encode(spacedLeadIn(leadIn));
  const r = tokenizer.encode(response);
  const rest = encodeChatResponse(tokenizer, ` ${example.output}`);
  return {
    ids: [...prompt, ...lead, ...r, ...rest],
    lossMask: [...prompt.map(() => 0), ...lead.map(() => 0), ...r.map(() => 1), ...rest.map(() => 0)],
    label: `${example.family}: parrot → ${JSON.stringify(response)}`,
  };
}

/**
 * Stage 2 (eliminate): the parrot prompt, then the clean response; the loss covers
 * the first `firstN` response tokens (all of them when the response is shorter, or when
 * `firstN` is 0).
 */
export function encodeParrotStage2(
  tokenizer: Tokenizer,
  example: Example,
  layout: ParrotLayout,
  firstN: number,
): EncodedExample {
  if (!Number.isInteger(firstN) || firstN < 0)
    throw new Error(`SANDE: the number of trained response tokens must be an integer ≥ 0 (0: all), got ${firstN}`);
  const prompt = parrotPromptIds(tokenizer, example, layout);
  const response = encodeChatResponse(tokenizer, example.output);
  return {
    ids: [...prompt, ...response],
    lossMask: [...prompt.map(() => 0), ...response.map((_, i) => (firstN === 0 || i < firstN ? 1 : 0))],
    label: `${example.family}: parrot → clean`,
  };
}
