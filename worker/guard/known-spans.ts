/**
 * The known-bad spans of a guard state: judged prefixes that are contained (confirmed,
 * remediating, or given a containment by the operator) and operator phrases while the
 * default containment is not observe. They are matched anywhere in an answer
 * (`shared/guard`'s SpanScanner), and those in "regenerate" are forbidden up front by a
 * logit mask. Built once per loaded state and tokenizer, and reused across state loads
 * while the spans are the same (a reload every `cacheSeconds` usually changes none).
 */
import { bannedSequences, compileSpans, spanBanMask, type PhraseRule, type SpanSet } from "../../shared/guard/index.js";
import type { BannedSequence } from "../../shared/guard/span-ban.js";
import type { LogitMask } from "../../shared/inference/index.js";
import type { Containment } from "../../shared/protocol/guard.js";
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { containmentFor } from "./decide.js";
import type { GuardState } from "./state.js";

/** One known-bad span: its key (normalised text), what to do when it is found, and the phrase rule behind it. */
export interface KnownSpan {
  key: string;
  containment: Exclude<Containment, "observe">;
  rule?: PhraseRule;
}

/** A state's spans and the mask that forbids those in "regenerate" containment. */
export interface KnownSpans {
  set: SpanSet<KnownSpan>;
  mask?: LogitMask;
}

const byState = new WeakMap<GuardState, { tokenizer: Tokenizer; spans: KnownSpans }>();

/** Span sets by what they were built from (a few: one per model version and tokenizer, mostly). */
const bySignature = new Map<string, { tokenizer: Tokenizer; spans: KnownSpans }>();
const MAX_SIGNATURES = 4;

/** The known-bad spans of `state` (cached per state, and per identical list of spans; rebuilt for another tokenizer). */
export function knownSpans(state: GuardState, tokenizer: Tokenizer): KnownSpans {
  const hit = byState.get(state);
  if (hit && hit.tokenizer === tokenizer) return hit.spans;
  const entries = spanEntries(state);
  const signature = entries.map(signatureOf).join("\u0001");
  let built = bySignature.get(signature);
  if (!built || built.tokenizer !== tokenizer) {
    built = { tokenizer, spans: buildKnownSpans(entries, tokenizer) };
    bySignature.delete(signature);
    bySignature.set(signature, built);
    if (bySignature.size > MAX_SIGNATURES) bySignature.delete(bySignature.keys().next().value!);
  }
  byState.set(state, built);
  return built.spans;
}

function signatureOf({ text, value }: { text: string; value: KnownSpan }): string {
  const r = value.rule;
  return [
    value.containment,
    text,
    r ? `${r.id}\u0000${r.list}\u0000${r.kind}\u0000${r.score}\u0000${r.pattern}` : "",
  ].join("\u0000");
}

function buildKnownSpans(entries: readonly { text: string; value: KnownSpan }[], tokenizer: Tokenizer): KnownSpans {
  const banned: BannedSequence[] = [];
  for (const e of entries) if (e.value.containment === "regenerate") banned.push(...bannedSequences(e.text, tokenizer));
  return { set: compileSpans(entries), mask: spanBanMask(banned, tokenizer) };
}

/** The state's spans with their containment (observe and ignored ones left out). */
export function spanEntries(state: GuardState): { text: string; value: KnownSpan }[] {
  const { settings } = state;
  const out: { text: string; value: KnownSpan }[] = [];
  for (const [key, known] of state.prefixes.entries()) {
    if (known.state === "ignored") continue;
    const contained = known.containment !== null || known.state === "confirmed" || known.state === "remediating";
    const containment = containmentFor(known, settings);
    if (contained && containment !== "observe") out.push({ text: key, value: { key, containment } });
  }
  const fallback = settings.defaultContainment;
  if (fallback === "observe") return out;
  for (const { rule, text } of state.phrases.literals)
    if (rule.score >= settings.phraseMinScore && !state.prefixes.get(text))
      out.push({ text, value: { key: text, containment: fallback, rule } });
  return out;
}
