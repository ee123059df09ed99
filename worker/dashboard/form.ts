/**
 * Turning the dashboard's form posts into the JSON shapes the admin API takes, so that the
 * same checks (shared/guard's mergeSettings through worker/db's patchSettings, and
 * worker/admin/phrase-input.ts) validate them. This layer only checks the form's shape
 * (known fields, no files) and converts text to numbers and booleans where the target
 * field is one; a value that does not convert is passed on as text, and the shared
 * checks reject it with their own message.
 */
import type { Context } from "hono";
import { DEFAULT_GUARD_SETTINGS, type GuardSettings } from "../../shared/protocol/guard.js";
import { AdminError } from "../admin/errors.js";
import { CSRF_FIELD } from "./session.js";

/** Prefix of the hidden fields that carry the value a settings field showed. */
export const WAS_PREFIX = "was.";

/** One line per setting for the settings form. */
export const SETTING_HINTS: Readonly<Record<keyof GuardSettings, string>> = {
  prefixTokens: "tokens held back and inspected, 1–256",
  defaultContainment: "for flagged prefixes without their own",
  failMode: "when D1 cannot be read",
  phraseMinScore: "phrase hits count from this score, 0–1",
  recurrenceMinScore: "recurrence hits count from this score, 0–1",
  confidenceMinScore: "confidence hits count from this score, 0–1",
  confidenceProbability: "mean token probability where confidence starts to score, [0, 1)",
  spanConfidenceProbability: "mean probability of a span finding's own tokens that counts as confidence, (0, 1]",
  recurrenceMinPrompts: "fewest distinct prompts before recurrence scores",
  recurrenceRatio: "live ÷ calibration frequency that scores 1, > 1",
  recurrenceDefaultFrequency: "assumed frequency without a calibration, (0, 1]",
  recurrenceWindowSeconds: "live traffic window, seconds",
  spanWords: "words per span key, 2–4",
  spanMinPrompts: "fewest distinct prompts before a span can be flagged",
  spanFalseAlarm: "binomial tail that flags a span: false-alarm rate per span and check, (0, 0.5]",
  spanAloneFalseAlarm: "the tail a span needs without the confidence signal, (0, 0.5]",
  ordinaryShare: "calibration share from which a span is an ordinary answer, (0, 1]",
  spanDefaultFrequency: "span frequency assumed without a calibration, (0, 1)",
  jobMinEvents: "threshold rule: events",
  jobMinDistinctPrompts: "threshold rule: distinct prompts (≤ events)",
  jobWindowSeconds: "threshold rule: window, seconds",
  eventRetentionDays: "days flagged events are kept (≥ the threshold window)",
  jobMaxPerClient: "threshold rule: most events (and prompts) one client contributes",
  jobMinClients: "threshold rule: fewest distinct clients (raise it in production)",
  healPolicy: "evidence: strong evidence heals, the rest waits for an operator; automatic; operator",
  jobMinDistinctAnswerShare: "threshold rule: share of those prompts with distinct answers, 0–1",
  storeExcerpts: "keep a 120-character prompt excerpt with each event",
  cacheSeconds: "how long an isolate reuses the guard state, 0–3600",
  blockMessage: "served instead of a blocked answer",
};

/** The posted form's text fields; AdminError 400 for a file. The CSRF field is left out. */
export async function formFields(c: Context): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value !== "string") throw AdminError.invalid(`form field ${name} must be text, not a file`);
    if (name !== CSRF_FIELD) out[name] = value;
  }
  return out;
}

/** AdminError 400 naming the first field not in `allowed`. */
function onlyFields(form: Record<string, string>, allowed: readonly string[]): void {
  const extra = Object.keys(form).find((name) => !allowed.includes(name));
  if (extra !== undefined)
    throw AdminError.invalid(`unexpected form field ${JSON.stringify(extra)} (expected: ${allowed.join(", ")})`);
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** "0.5" → 0.5; anything else stays text (the shared check names the field and the bad value). */
function asNumber(text: string): number | string {
  const t = text.trim();
  return NUMBER.test(t) ? Number(t) : text;
}

/** "true"/"false" → boolean; anything else stays text. */
function asBoolean(text: string): boolean | string {
  return text === "true" ? true : text === "false" ? false : text;
}

/**
 * The settings form as a PATCH body: the fields whose value differs from the value the
 * form showed (`was.<name>`; without one the field counts as changed), converted to the
 * setting's type. Another operator's change to a field this form did not touch survives.
 */
export function settingsPatch(form: Record<string, string>): Record<string, unknown> {
  const names = Object.keys(DEFAULT_GUARD_SETTINGS) as (keyof GuardSettings)[];
  onlyFields(form, [...names, ...names.map((n) => `${WAS_PREFIX}${n}`)]);
  const patch: Record<string, unknown> = {};
  for (const name of names) {
    const value = form[name];
    if (value === undefined || value === form[`${WAS_PREFIX}${name}`]) continue;
    const kind = typeof DEFAULT_GUARD_SETTINGS[name];
    patch[name] = kind === "number" ? asNumber(value) : kind === "boolean" ? asBoolean(value) : value;
  }
  return patch;
}

/** Empty optional text → absent (the admin API's default applies). */
function optional(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** The add-a-rule form as a POST /phrases body. */
export function newPhraseBody(form: Record<string, string>): Record<string, unknown> {
  onlyFields(form, ["pattern", "kind", "list", "score", "note", "enabled"]);
  const score = optional(form.score);
  const enabled = optional(form.enabled);
  return {
    pattern: form.pattern ?? "",
    kind: optional(form.kind),
    list: optional(form.list),
    score: score === undefined ? undefined : asNumber(score),
    note: optional(form.note),
    enabled: enabled === undefined ? undefined : asBoolean(enabled),
  };
}

/** A rule's edit form (score, on/off) as a PATCH /phrases/:id body. */
export function phraseChangeBody(form: Record<string, string>): Record<string, unknown> {
  onlyFields(form, ["score", "enabled"]);
  return {
    score: form.score === undefined ? undefined : asNumber(form.score),
    enabled: form.enabled === undefined ? undefined : asBoolean(form.enabled),
  };
}
