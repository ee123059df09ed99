import { normalisePrefix, runDetectors, wholeWords, type RecurrenceCounts } from "../../shared/guard/index.js";
import { chainMasks, type LogitMask } from "../../shared/inference/index.js";
import { clientHash } from "../clients/hash.js";
import type { Database } from "../db/index.js";
import type { GuardDecision, GuardRequest, GuardSession, HeldPrefix, SpanMatch, SpanWatch } from "./contract.js";
import { actionOf, containmentFor, decide, PASS, stricter } from "./decide.js";
import { knownSpans, type KnownSpan } from "./known-spans.js";
import { phraseHit, spanInWindow, watchSpans } from "./span-watch.js";
import { sha256Hex } from "../../shared/store/sha256.js";
import type { GuardRuntime } from "./runtime.js";
import type { GuardState } from "./state.js";
import type { WebhookTarget } from "../webhook/notify.js";
import type { PendingEvent } from "./writer.js";

/** Where a session's writes go. */
export interface WriteTarget {
  db: Database;
  webhook?: WebhookTarget;
}

/** Longest prompt excerpt stored with an event (when settings.storeExcerpts). */
const EXCERPT_CHARS = 120;

/**
 * Guarding of one response (see {@link GuardSession}). `inspect` is synchronous and
 * touches only the state loaded in `begin` and this isolate's counters; `finish` queues
 * the event and, when a write is due, hands it to `waitUntil`.
 */
export class ResponseGuardSession implements GuardSession {
  readonly prefixTokens: number;
  readonly logitMask?: LogitMask;
  private attempts = 0;
  private promptHash?: string;
  private pending?: PendingEvent;
  private finished = false;

  constructor(
    private readonly runtime: GuardRuntime,
    private readonly state: GuardState,
    private readonly request: GuardRequest,
    private readonly target: WriteTarget,
  ) {
    this.prefixTokens = state.settings.prefixTokens;
    // First tokens of prefixes in "regenerate", and their spans at any position.
    this.logitMask = chainMasks(state.logitMask, knownSpans(state, request.tokenizer).mask);
  }

  inspect(held: HeldPrefix): GuardDecision {
    const { state, request, runtime } = this;
    const settings = state.settings;
    const attempt = this.attempts++;
    if (state.degraded === "unavailable" && settings.failMode === "closed")
      return { action: "block", message: settings.blockMessage };

    const window = normalisePrefix(held.text);
    // The window without a cut last word: its key is what recurrence counts and the log groups by, and
    // its text is the sample a job's SANDE-P target comes from.
    const whole = wholeWords(held.text, !held.finished);
    const prefix = whole === held.text ? window : normalisePrefix(whole);
    const promptHash = (this.promptHash ??= sha256Hex(request.promptText));
    const at = runtime.now();
    // The first window is the model's own answer to the prompt; a regenerated one was steered, so it is not counted.
    const counts: RecurrenceCounts =
      attempt === 0
        ? runtime.sight({ modelVersion: request.modelVersion, prefix, promptHash, at }, state)
        : { prompts: state.traffic.get(prefix) ?? 0, total: state.total };

    const known = state.prefixes.match(window, !held.finished);
    if (known?.state === "ignored") return PASS;
    const hits = runDetectors(
      { prefix: window, key: prefix, logprobs: held.logprobs, finished: held.finished },
      { settings, phrases: state.phrases, calibration: state.calibration, recurrence: () => counts },
    );
    const contained =
      known !== undefined &&
      (known.containment !== null || known.state === "confirmed" || known.state === "remediating");
    const span = spanInWindow(state, held, request.tokenizer);
    if (hits.length === 0 && !contained && !span) return PASS;
    if (span?.value.rule && !hits.some((h) => h.detector === "phrase")) {
      hits.push(phraseHit(span.value.rule));
      hits.sort((a, b) => b.score - a.score);
    }

    // A span alone (no hit, no contained prefix) is contained as that span is; otherwise the stricter.
    const own = containmentFor(known, settings);
    const spanOnly = span && hits.length === 0 && !contained;
    const containment = !span ? own : spanOnly ? span.value.containment : stricter(own, span.value.containment);
    const decision = decide(containment, held, settings, attempt, span ?? undefined);
    if (this.pending) {
      this.pending.event.action = actionOf(decision); // flagged again after a regeneration: escalated
    } else {
      this.pending = {
        event: {
          prefix,
          hits,
          score: hits.length ? hits[0].score : 0,
          promptHash,
          excerpt: settings.storeExcerpts ? excerpt(request.promptText) : undefined,
          modelVersion: request.modelVersion,
          requestId: request.requestId,
          ...(request.client !== undefined && { clientHash: clientHash(request.client) }),
          action: actionOf(decision),
          at,
        },
        sample: whole,
        firstTokens: held.tokens.slice(0, 8),
      };
    }
    return decision;
  }

  spans(): SpanWatch | undefined {
    return watchSpans(this.state, this.request.tokenizer, (span, match) => this.spanFound(span, match));
  }

  /** Logs a span found past the window: a new event, or the window's event escalated to what was done. */
  private spanFound(span: KnownSpan, match: SpanMatch): void {
    const action = match.action === "redact" ? "redact" : "block";
    if (this.pending) {
      if (action === "block") this.pending.event.action = "block";
      return;
    }
    const { request, state } = this;
    const hits = span.rule ? [phraseHit(span.rule)] : [];
    this.pending = {
      event: {
        prefix: span.key,
        hits,
        score: hits.length ? hits[0].score : 0,
        promptHash: (this.promptHash ??= sha256Hex(request.promptText)),
        excerpt: state.settings.storeExcerpts ? excerpt(request.promptText) : undefined,
        modelVersion: request.modelVersion,
        requestId: request.requestId,
        action,
        at: this.runtime.now(),
      },
      sample: span.key,
      firstTokens: request.tokenizer.encode(span.key).slice(0, 8),
    };
  }

  finish(waitUntil: (promise: Promise<unknown>) => void): void {
    if (this.finished) return;
    this.finished = true;
    if (this.pending) this.runtime.record(this.pending);
    if (this.runtime.writeDue()) waitUntil(this.runtime.flush(this.target.db, this.target.webhook));
  }
}

/** The user-visible text of a templated prompt (special tokens dropped), shortened. */
function excerpt(promptText: string): string {
  return promptText
    .replace(/<\|[a-z]+\|>/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, EXCERPT_CHARS);
}
