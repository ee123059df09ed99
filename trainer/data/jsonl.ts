import { parseRecords, readAlpacaFields, requiredString, asObject } from "./alpaca.js";
import type { Example } from "./example.js";

/**
 * Serialises examples as JSONL, one `{family, instruction, input?, output}`
 * object per line, each line newline-terminated ("" for no examples).
 */
export function toJsonl(examples: readonly Example[]): string {
  return examples
    .map(
      (e) =>
        JSON.stringify(
          e.input
            ? { family: e.family, instruction: e.instruction, input: e.input, output: e.output }
            : { family: e.family, instruction: e.instruction, output: e.output },
        ) + "\n",
    )
    .join("");
}

/**
 * Parses `toJsonl` output back into examples. Every record needs a non-empty
 * string `family` plus valid Alpaca fields; any bad line fails the whole read
 * with an error naming its record index, line and field.
 */
export function fromJsonl(text: string): Example[] {
  if (text.trim() === "") return [];
  return parseRecords(text, "JSONL").map(({ value, where }) => {
    const family = requiredString(asObject(value, where), "family", where);
    return { family, ...readAlpacaFields(value, where) };
  });
}
