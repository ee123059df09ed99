/**
 * Field validators for OpenAI request bodies. Pure: each returns the typed value or
 * throws an {@link ApiError} (400, `param` naming the field, a message saying what is wrong).
 */
import { ApiError } from "./errors.js";

/** A parsed JSON object. */
export type Json = Record<string, unknown>;

/** Whether `v` is a JSON object (not null, not an array). */
export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A short description of a bad value for error messages: its type, and the value when short. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  const s = JSON.stringify(v) ?? String(v);
  return `${typeof v} ${s.length > 40 ? s.slice(0, 37) + "..." : s}`;
}

/** `obj[key]` as a boolean; undefined when absent or null. */
export function optionalBoolean(obj: Json, key: string, param = key): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean")
    throw ApiError.invalid(`'${param}' must be a boolean, got ${describe(v)}.`, param, "invalid_type");
  return v;
}

/** `obj[key]` as a finite number; undefined when absent or null. */
export function optionalNumber(obj: Json, key: string, param = key): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw ApiError.invalid(`'${param}' must be a number, got ${describe(v)}.`, param, "invalid_type");
  return v;
}

/** `obj[key]` as a safe integer; undefined when absent or null. */
export function optionalInteger(obj: Json, key: string, param = key): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v))
    throw ApiError.invalid(`'${param}' must be an integer, got ${describe(v)}.`, param, "invalid_type");
  return v;
}

/** `value` unless it lies outside [min, max]: then a 400 `decimal_out_of_range` naming `param`. */
export function numberInRange(value: number, min: number, max: number, param: string): number {
  if (!(value >= min && value <= max))
    throw ApiError.invalid(
      `'${param}' must be between ${min} and ${max}, got ${value}.`,
      param,
      "decimal_out_of_range",
    );
  return value;
}

/** `value` unless it lies outside [min, max]: then a 400 `integer_below_min_value` / `integer_above_max_value`. */
export function integerInRange(value: number, min: number, max: number, param: string): number {
  if (value < min)
    throw ApiError.invalid(`'${param}' must be at least ${min}, got ${value}.`, param, "integer_below_min_value");
  if (value > max)
    throw ApiError.invalid(`'${param}' must be at most ${max}, got ${value}.`, param, "integer_above_max_value");
  return value;
}

/** A 400 `unsupported_parameter` for a field this server does not implement. */
export function unsupportedParameter(param: string, why = "is not supported by this server."): ApiError {
  return ApiError.invalid(`'${param}' ${why}`, param, "unsupported_parameter");
}

/**
 * Refuses OpenAI features this server does not implement, rather than silently ignoring
 * them: each check says whether the field's (non-null) value asks for the feature.
 */
export function refuseUnsupported(body: Json, checks: readonly (readonly [string, (v: unknown) => boolean])[]): void {
  for (const [name, used] of checks) {
    const v = body[name];
    if (v !== undefined && v !== null && used(v)) throw unsupportedParameter(name);
  }
}
