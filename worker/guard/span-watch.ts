/**
 * A session's use of its state's known-bad spans: the first one in the held window (for
 * `inspect`), and a watch over the rest of the answer (for serving), each match reported
 * back so that it is logged.
 */
import { bannedSequences, SpanScanner, type PhraseRule, type SpanHit } from "../../shared/guard/index.js";
import type { DetectorHit } from "../../shared/protocol/guard.js";
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { HeldPrefix, SpanMatch, SpanWatch } from "./contract.js";
import { stricter, type WindowSpan } from "./decide.js";
import { knownSpans, type KnownSpan } from "./known-spans.js";
import type { GuardState } from "./state.js";

/** A span found in the window, with the sequences a regeneration bans. */
export interface FoundSpan extends WindowSpan {
  value: KnownSpan;
}

/** The strictest known-bad span completed inside the held window (earliest among equals), or null. */
export function spanInWindow(state: GuardState, held: HeldPrefix, tokenizer: Tokenizer): FoundSpan | null {
  const { set } = knownSpans(state, tokenizer);
  if (set.size === 0) return null;
  const scanner = new SpanScanner(set);
  const hits = scanner.push(held.text);
  if (held.finished) hits.push(...scanner.end());
  let best: SpanHit<KnownSpan> | null = null;
  for (const h of hits)
    if (!best || stricter(best.span.value.containment, h.span.value.containment) !== best.span.value.containment)
      best = h;
  if (!best) return null;
  const text = held.text.slice(best.start, best.end);
  const banned =
    best.span.value.containment === "regenerate"
      ? [...bannedSequences(text, tokenizer), ...bannedSequences(best.span.value.key, tokenizer)]
      : [];
  return { start: best.start, end: best.end, banned, value: best.span.value };
}

/** A watch over one generation's text; `onMatch` hears of every span found. */
export function watchSpans(
  state: GuardState,
  tokenizer: Tokenizer,
  onMatch: (span: KnownSpan, match: SpanMatch) => void,
): SpanWatch | undefined {
  const { set } = knownSpans(state, tokenizer);
  if (set.size === 0) return undefined;
  const scanner = new SpanScanner(set);
  const report = (hits: SpanHit<KnownSpan>[]): SpanMatch[] =>
    hits.map((h) => {
      const match: SpanMatch = {
        start: h.start,
        end: h.end,
        action: h.span.value.containment === "redact" ? "redact" : "cut",
      };
      onMatch(h.span.value, match);
      return match;
    });
  return {
    push: (text) => report(scanner.push(text)),
    end: () => report(scanner.end()),
    get safe() {
      return scanner.safe;
    },
  };
}

/** The detector hit of an operator phrase found as a span. */
export function phraseHit(rule: PhraseRule): DetectorHit {
  return {
    detector: "phrase",
    score: rule.score,
    detail: `${rule.list}: ${rule.kind} ${JSON.stringify(rule.pattern)}`,
  };
}
