import type { DetectorHit } from "../protocol/guard.js";
import { normalisePrefix } from "./normalise.js";
import { indexLiterals, literalCandidates, type LiteralIndex } from "./phrase-index.js";
import { mayMatch, regexLead, type RegexLead } from "./regex-lead.js";
import { MAX_REGEX_INPUT, unsafeRegexReason } from "./regex-safety.js";

/** One operator list entry, as stored in D1 and managed through the admin API. */
export interface PhraseRule {
  id: number;
  /** Name of the list the entry belongs to (e.g. "planted", "jailbreak"). */
  list: string;
  /** "phrase": a literal, matched after normalisation; "regex": a JavaScript pattern over the normalised prefix. */
  kind: "phrase" | "regex";
  pattern: string;
  /** Score of a match, 0..1. */
  score: number;
}

/** Phrase rules compiled once per state load, so matching costs no parsing. */
export interface CompiledPhrases {
  /** `head`: the shortest beginning of `text` that counts when the window cuts the phrase off (empty: whole phrase only). */
  readonly literals: readonly { rule: PhraseRule; text: string; head: string }[];
  /** `lead`: the text every match begins with (a window without it skips the regex), or null. */
  readonly patterns: readonly { rule: PhraseRule; re: RegExp; lead: RegexLead | null }[];
  /** `literals` by their first characters ({@link literalCandidates}). */
  readonly index: LiteralIndex;
}

/** Raised for a rule that cannot be compiled (the admin API refuses it). */
export class PhraseRuleError extends Error {
  override name = "PhraseRuleError";
}

/** Longest pattern accepted (patterns run on every response). */
export const MAX_PATTERN_LENGTH = 500;

/**
 * Compiles one rule's pattern, or throws {@link PhraseRuleError} saying why it is unusable:
 * a regex that does not compile, or one prone to catastrophic backtracking (nested
 * quantifiers, backreferences: see regex-safety.ts).
 */
export function compileRule(rule: Pick<PhraseRule, "kind" | "pattern">): string | RegExp {
  if (typeof rule.pattern !== "string" || rule.pattern.length === 0 || rule.pattern.length > MAX_PATTERN_LENGTH) {
    throw new PhraseRuleError(`pattern must be a non-empty string of at most ${MAX_PATTERN_LENGTH} characters`);
  }
  if (rule.kind === "phrase") {
    const text = normalisePrefix(rule.pattern);
    if (!text) throw new PhraseRuleError("phrase is empty after normalisation");
    return text;
  }
  if (rule.kind === "regex") {
    let re: RegExp;
    try {
      re = new RegExp(rule.pattern, "u");
    } catch (e) {
      throw new PhraseRuleError(`invalid regular expression: ${(e as Error).message}`);
    }
    const unsafe = unsafeRegexReason(rule.pattern);
    if (unsafe) throw new PhraseRuleError(`unsafe regular expression: ${unsafe}`);
    return re;
  }
  throw new PhraseRuleError(`kind must be "phrase" or "regex", got ${JSON.stringify(rule.kind)}`);
}

/** Compiles rules; a rule that no longer compiles (edited by hand in D1) is skipped and reported through `onError`. */
export function compilePhrases(
  rules: readonly PhraseRule[],
  onError: (rule: PhraseRule, error: Error) => void = () => {},
): CompiledPhrases {
  const literals: { rule: PhraseRule; text: string; head: string }[] = [];
  const patterns: { rule: PhraseRule; re: RegExp; lead: RegexLead | null }[] = [];
  for (const rule of rules) {
    try {
      const compiled = compileRule(rule);
      if (typeof compiled === "string") {
        const need = Math.max(MIN_CUT_OVERLAP, Math.ceil(compiled.length / 2));
        literals.push({ rule, text: compiled, head: need < compiled.length ? compiled.slice(0, need) : "" });
      } else patterns.push({ rule, re: compiled, lead: regexLead(rule.pattern) });
    } catch (e) {
      onError(rule, e as Error);
    }
  }
  return { literals, patterns, index: indexLiterals(literals.map((l) => l.text)) };
}

/** No rules. */
export const NO_PHRASES: CompiledPhrases = { literals: [], patterns: [], index: indexLiterals([]) };

/** Characters of a phrase that must show at the end of a cut-off window (and at least half the phrase). */
export const MIN_CUT_OVERLAP = 8;

/**
 * Detector (1), operator lists: the best-scoring rule matching the normalised prefix.
 * A phrase matches when it occurs in the prefix, or when the window was cut off inside
 * it: the response went on and the window ends with the phrase's first
 * max(8, half its length) characters or more (a phrase that starts late in the window,
 * or is longer than it, can never be seen whole). Patterns are tested on the normalised
 * prefix's first {@link MAX_REGEX_INPUT} characters (patterns that can backtrack
 * catastrophically were refused by {@link compileRule}). Only the phrases whose first
 * characters occur in the prefix are tested (no other can match). Returns null when nothing matches.
 */
export function detectPhrase(prefix: string, finished: boolean, phrases: CompiledPhrases): DetectorHit | null {
  let best: PhraseRule | null = null;
  for (const i of literalCandidates(prefix, phrases.index)) {
    const { rule, text, head } = phrases.literals[i];
    if (best && rule.score <= best.score) continue;
    if (prefix.includes(text) || (!finished && head && endsInside(prefix, text, head))) best = rule;
  }
  const bounded = prefix.length > MAX_REGEX_INPUT ? prefix.slice(0, MAX_REGEX_INPUT) : prefix;
  for (const { rule, re, lead } of phrases.patterns) {
    if (best && rule.score <= best.score) continue;
    if (mayMatch(bounded, lead) && re.test(bounded)) best = rule;
  }
  return best
    ? { detector: "phrase", score: best.score, detail: `${best.list}: ${best.kind} ${JSON.stringify(best.pattern)}` }
    : null;
}

/** Whether `window` ends with a beginning of `phrase` at least as long as `head`. */
function endsInside(window: string, phrase: string, head: string): boolean {
  const last = window.length - head.length;
  for (
    let i = window.indexOf(head, Math.max(0, window.length - phrase.length + 1));
    i !== -1 && i <= last;
    i = window.indexOf(head, i + 1)
  ) {
    if (phrase.startsWith(window.slice(i))) return true;
  }
  return false;
}
