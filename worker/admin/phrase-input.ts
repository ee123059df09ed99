/**
 * Reading phrase-list entries from a request body: one set of checks for the admin API
 * (JSON) and the dashboard (its forms, converted to the same shape). Each bad field is
 * an AdminError 400 naming it; the pattern itself is compiled by worker/db's addPhrase
 * (a bad regex is a PhraseRuleError, also a 400). Callers drop the guard's cached state after a change.
 */
import type { Database } from "../db/index.js";
import { addPhrase, updatePhrase, type PhraseRow } from "../db/phrases.js";
import { AdminError } from "./errors.js";
import { field } from "./input.js";

/** A new entry, as {@link readNewPhrase} returns it (addPhrase's input without the clock). */
export type NewPhrase = Omit<Parameters<typeof addPhrase>[1], "now">;

/** A change to an entry, as {@link readPhraseChange} returns it (updatePhrase's input). */
export type PhraseChange = Parameters<typeof updatePhrase>[2];

/** POST /phrases's body: pattern (required), list, kind, score, enabled, note. */
export function readNewPhrase(body: Record<string, unknown>): NewPhrase {
  return {
    list: field.stringOpt(body, "list", 100) ?? "default",
    kind: field.oneOfOpt(body, "kind", ["phrase", "regex"] as const) ?? "phrase",
    pattern: field.string(body, "pattern", 500),
    score: field.numberOpt(body, "score", 0, 1) ?? 1,
    enabled: field.boolOpt(body, "enabled") ?? true,
    note: field.stringOpt(body, "note", 1000) ?? null,
  };
}

/** PATCH /phrases/:id's body: score, enabled, note (null clears it); absent fields stay. */
export function readPhraseChange(body: Record<string, unknown>): PhraseChange {
  const change: PhraseChange = {};
  const score = field.numberOpt(body, "score", 0, 1);
  const enabled = field.boolOpt(body, "enabled");
  if (score !== undefined) change.score = score;
  if (enabled !== undefined) change.enabled = enabled;
  if (body.note !== undefined) change.note = body.note === null ? null : field.string(body, "note", 1000);
  return change;
}

/** Adds the entry `body` describes; AdminError 400 for a bad field or pattern, 409 when its list already has it. */
export async function createPhrase(db: Database, body: Record<string, unknown>, now: number): Promise<PhraseRow> {
  const phrase = await addPhrase(db, { ...readNewPhrase(body), now });
  if (!phrase) throw AdminError.conflict("that list already has this entry");
  return phrase;
}

/** Applies the change `body` describes to entry `id`; AdminError 400 for a bad field, 404 when there is no such entry. */
export async function changePhrase(db: Database, id: number, body: Record<string, unknown>): Promise<PhraseRow> {
  const phrase = await updatePhrase(db, id, readPhraseChange(body));
  if (!phrase) throw AdminError.notFound(`no phrase ${id}`);
  return phrase;
}
