import type { Example } from "./example.js";

/** Options for `loadAlpaca`. */
export interface AlpacaLoadOptions {
  /** Family recorded on every loaded example (default "alpaca"). */
  family?: string;
}

/** The Alpaca fields of one record, checked. */
export interface AlpacaFields {
  instruction: string;
  input?: string;
  output: string;
}

/**
 * Parses Alpaca-format data: a JSON array of `{instruction, input?, output}`
 * records, or JSONL (one such object per line; blank lines skipped). Extra
 * fields are ignored; an empty `input` is dropped. Any bad record fails the
 * whole load with an error naming its index (and line, for JSONL) and field.
 */
export function loadAlpaca(jsonText: string, options: AlpacaLoadOptions = {}): Example[] {
  const family = options.family ?? "alpaca";
  return parseRecords(jsonText, "Alpaca data").map(({ value, where }) => ({
    family,
    ...readAlpacaFields(value, where),
  }));
}

/** A parsed record and how to name it in errors, e.g. "record 3 (line 5)". */
export interface LocatedRecord {
  value: unknown;
  where: string;
}

/** Splits a JSON array or JSONL text into records; throws on malformed JSON or empty text. */
export function parseRecords(text: string, what: string): LocatedRecord[] {
  const body = text.replace(/^\uFEFF/, "");
  if (body.trim() === "") throw new Error(`${what} is empty`);
  if (body.trimStart().startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      throw new Error(`${what}: not valid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(parsed)) throw new Error(`${what}: expected a JSON array of records`);
    return parsed.map((value: unknown, index) => ({ value, where: `${what}: record ${index}` }));
  }
  const records: LocatedRecord[] = [];
  body.split(/\r?\n/).forEach((line, lineIndex) => {
    if (line.trim() === "") return;
    const where = `${what}: record ${records.length} (line ${lineIndex + 1})`;
    try {
      records.push({ value: JSON.parse(line), where });
    } catch (error) {
      throw new Error(`${where}: not valid JSON (${(error as Error).message})`);
    }
  });
  return records;
}

/** Checks a record's `instruction`, `input` and `output` fields; `where` prefixes every error. */
export function readAlpacaFields(value: unknown, where: string): AlpacaFields {
  const record = asObject(value, where);
  const instruction = requiredString(record, "instruction", where);
  const output = requiredString(record, "output", where);
  const input = record.input;
  if (input !== undefined && typeof input !== "string")
    throw new Error(`${where}: field "input" must be a string, got ${describe(input)}`);
  return input ? { instruction, input, output } : { instruction, output };
}

/** `value` as a plain object, or an error saying what it is instead. */
export function asObject(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${where}: expected an object with "instruction" and "output" fields, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** A field that must be present, a string, and not blank. */
export function requiredString(record: Record<string, unknown>, field: string, where: string): string {
  const value = record[field];
  if (value === undefined) throw new Error(`${where}: missing field "${field}"`);
  if (typeof value !== "string") throw new Error(`${where}: field "${field}" must be a string, got ${describe(value)}`);
  if (value.trim() === "") throw new Error(`${where}: field "${field}" is empty`);
  return value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}
