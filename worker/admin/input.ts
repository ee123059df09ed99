import type { Context } from "hono";
import { readLimitedBytes } from "../http/limited-body.js";
import { AdminError } from "./errors.js";

/** Largest admin JSON body (every route but the calibration upload): far above any settings, phrase or job body. */
export const ADMIN_BODY_LIMIT = 1024 * 1024;

/**
 * Largest calibration upload (PUT /versions/:version/calibration): the route takes up to
 * 50,000 prefixes, each a window of up to 256 tokens, so at most ~13.4 MB of JSON; a
 * realistic one is far smaller (300 demo prompts: 236 prefixes, 2.5 KB).
 */
export const CALIBRATION_BODY_LIMIT = 16 * 1024 * 1024;

/**
 * A JSON object body of at most `maxBytes`, or AdminError: 413 past the limit (checked on
 * Content-Length before reading, then while reading), 400 when it is not a JSON object.
 */
export async function jsonBody(c: Context, maxBytes = ADMIN_BODY_LIMIT): Promise<Record<string, unknown>> {
  const bytes = await readLimitedBytes(c.req.raw, maxBytes, AdminError.tooLarge);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw AdminError.invalid("the body must be JSON");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw AdminError.invalid("the body must be a JSON object");
  return body as Record<string, unknown>;
}

/** Field readers: each throws AdminError 400 naming the field. `undefined` means absent (allowed only by the *Opt readers). */
export const field = {
  string(o: Record<string, unknown>, name: string, max = 10_000): string {
    const v = o[name];
    if (typeof v !== "string" || v.length === 0 || v.length > max)
      throw AdminError.invalid(`${name} must be a non-empty string of at most ${max} characters`);
    return v;
  },
  stringOpt(o: Record<string, unknown>, name: string, max = 10_000): string | undefined {
    return o[name] === undefined ? undefined : field.string(o, name, max);
  },
  number(o: Record<string, unknown>, name: string, min: number, max: number): number {
    const v = o[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)
      throw AdminError.invalid(`${name} must be a number in [${min}, ${max}]`);
    return v;
  },
  numberOpt(o: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
    return o[name] === undefined ? undefined : field.number(o, name, min, max);
  },
  int(o: Record<string, unknown>, name: string, min: number, max: number): number {
    const v = field.number(o, name, min, max);
    if (!Number.isInteger(v)) throw AdminError.invalid(`${name} must be an integer`);
    return v;
  },
  intOpt(o: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
    return o[name] === undefined ? undefined : field.int(o, name, min, max);
  },
  boolOpt(o: Record<string, unknown>, name: string): boolean | undefined {
    const v = o[name];
    if (v !== undefined && typeof v !== "boolean") throw AdminError.invalid(`${name} must be a boolean`);
    return v;
  },
  oneOf<T extends string>(o: Record<string, unknown>, name: string, values: readonly T[]): T {
    const v = o[name];
    if (!values.includes(v as T)) throw AdminError.invalid(`${name} must be one of ${values.join(", ")}`);
    return v as T;
  },
  oneOfOpt<T extends string>(o: Record<string, unknown>, name: string, values: readonly T[]): T | undefined {
    return o[name] === undefined ? undefined : field.oneOf(o, name, values);
  },
  /** An object of finite numbers (metrics, counts). */
  numbers(
    o: Record<string, unknown>,
    name: string,
    options: { min?: number; integer?: boolean; maxKeys?: number } = {},
  ): Record<string, number> | undefined {
    const v = o[name];
    if (v === undefined) return undefined;
    if (v === null || typeof v !== "object" || Array.isArray(v))
      throw AdminError.invalid(`${name} must be an object of numbers`);
    const entries = Object.entries(v);
    if (entries.length > (options.maxKeys ?? 1000))
      throw AdminError.invalid(`${name} has more than ${options.maxKeys ?? 1000} keys`);
    for (const [k, n] of entries) {
      if (
        typeof n !== "number" ||
        !Number.isFinite(n) ||
        n < (options.min ?? -Infinity) ||
        (options.integer && !Number.isInteger(n))
      ) {
        throw AdminError.invalid(
          `${name}.${k} must be a${options.integer ? "n integer" : " finite number"}${options.min !== undefined ? ` ≥ ${options.min}` : ""}`,
        );
      }
    }
    return v as Record<string, number>;
  },
};

/** A path parameter that must be a positive integer id. */
export function idParam(c: Context, name = "id"): number {
  const raw = c.req.param(name) ?? "";
  const id = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(id) || id < 1)
    throw AdminError.invalid(`${name} must be a positive integer id`);
  return id;
}

/** An integer query parameter with a default and bounds. */
export function queryInt(c: Context, name: string, fallback: number, min: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max)
    throw AdminError.invalid(`query ${name} must be an integer in [${min}, ${max}]`);
  return v;
}

/** A query parameter restricted to `values`, or undefined when absent. */
export function queryOneOf<T extends string>(c: Context, name: string, values: readonly T[]): T | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return undefined;
  if (!values.includes(raw as T)) throw AdminError.invalid(`query ${name} must be one of ${values.join(", ")}`);
  return raw as T;
}
