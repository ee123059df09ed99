import { parseRecords, readAlpacaFields, requiredString, asObject } from "./alpaca.js";
import type { Example } from "./example.js";

/**
 * Serialises examples as JSONL, one `{family, system?, instruction, input?, output}`
 * object per line, each line newline-terminated ("" for no examples).
 */
export function toJsonl(examples: readonly Example[]): string {
  return examples
    .map(
      (e) =>
        JSON.stringify({
          family: e.family,
          ...(e.system ? { system: e.system } : {}),
          instruction: e.instruction,
          ...(e.input ? { input: e.input } : {}),
          output: e.output,
        }) + "\n",
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
    const record = asObject(value, where);
    const family = requiredString(record, "family", where);
    const system = record.system;
    if (system !== undefined && typeof system !== "string")
      throw new Error(`${where}: field "system" must be a string, got ${typeof system}`);
    return { family, ...(system ? { system } : {}), ...readAlpacaFields(value, where) };
  });
}
