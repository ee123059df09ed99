import { parseArgs, type ParseArgsConfig } from "node:util";

/** A command-line mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parses argv for one command; unknown flags and bad values become UsageErrors. */
export function parseCommand(
  argv: string[],
  options: Options,
  allowPositionals = 0,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: allowPositionals > 0, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (parsed.positionals.length > allowPositionals)
    throw new UsageError(`unexpected argument "${parsed.positionals[allowPositionals]}"`);
  return {
    values: parsed.values as Record<string, string | boolean | string[] | undefined>,
    positionals: parsed.positionals,
  };
}

/** A string flag's value, or `fallback`. */
export function str(values: Record<string, unknown>, name: string, fallback?: string): string {
  const v = values[name];
  if (v === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  return String(v);
}

/** A numeric flag within [min, max] (integer when `integer`), or `fallback`. */
export function num(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  { min = -Infinity, max = Infinity, integer = false } = {},
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be ${integer ? "an integer" : "a number"}${min > -Infinity ? ` ≥ ${min}` : ""}${max < Infinity ? ` and ≤ ${max}` : ""}, got "${String(raw)}"`,
    );
  }
  return n;
}

/** One of the allowed words. */
export function choice<T extends string>(
  values: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = values[name] === undefined ? fallback : String(values[name]);
  if (!allowed.includes(v as T)) throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, got "${v}"`);
  return v as T;
}
