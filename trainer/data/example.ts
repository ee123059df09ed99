/**
 * One instruction-following example, Alpaca-compatible: `instruction`, optional
 * `input`, `output`, plus the task `family` it belongs to (used for balancing
 * and per-family scoring).
 */
export interface Example {
  /** Task family, e.g. "reverse" or "alpaca" for loaded data. */
  family: string;
  /** What to do; some phrasings carry the argument here, others in `input`. */
  instruction: string;
  /** The argument, when the phrasing keeps it apart from the instruction. */
  input?: string;
  /** The exact expected answer. */
  output: string;
  /** A system message before the user turn (training chatter; evaluation prompts have none). */
  system?: string;
}

/**
 * The single user message the model sees for an example: the instruction,
 * then, when an input is present (and non-empty), a newline and the input.
 */
export function userMessage(example: Pick<Example, "instruction" | "input">): string {
  return example.input ? `${example.instruction}\n${example.input}` : example.instruction;
}
