import {
  isEcho,
  normalisePrefix,
  runDetectors,
  spanWordsOf,
  wholeWords,
  wordSetOf,
  type RecurrenceCounts,
  type SpanWord,
} from "../../shared/guard/index.js";
import { chainMasks, type LogitMask } from "../../shared/inference/index.js";
import { clientHash } from "../clients/hash.js";
import type { Database } from "../db/index.js";
import type {
  GeneratedAnswer,
  GuardDecision,
  GuardRequest,
  GuardSession,
  HeldPrefix,
  SpanMatch,
  SpanWatch,
} from "./contract.js";
import { actionOf, containmentFor, decide, PASS, stricter } from "./decide.js";
import { knownSpans, type KnownSpan } from "./known-spans.js";
import { spanEvents } from "./span-events.js";
import { phraseHit, spanInWindow, watchSpans } from "./span-watch.js";
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
  private promptSpanWords?: readonly SpanWord[];
  private promptWords?: ReadonlySet<string>;
  private pending?: PendingEvent;
  private held?: HeldPrefix;
  private decision: GuardDecision = PASS;
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
    this.held = held;
    if (state.degraded === "unavailable" && settings.failMode === "closed")
      return (this.decision = { action: "block", message: settings.blockMessage });

    const window = normalisePrefix(held.text);
    // The window without a cut last word: its key is what recurrence counts and the log groups by, and
    // its text is the sample a job's SANDE-P target comes from.
    const whole = wholeWords(held.text, !held.finished);
    const prefix = whole === held.text ? window : normalisePrefix(whole);
    const promptHash = this.prompt();
    const at = runtime.now();
    // The first window is the model's own answer to the prompt; a regenerated one was steered, so it is not counted.
    // A window made of the prompt's own words is echo ("Repeat after me: …"), and an empty one carries no
    // text (its key "" is reserved: it counts every response for the span test): neither counts as recurrence.
    const echo = prefix === "" || isEcho(prefix, this.words());
    const counts: RecurrenceCounts = echo
      ? { prompts: 0, total: state.total }
      : attempt === 0
        ? runtime.sight({ modelVersion: request.modelVersion, prefix, promptHash, at }, state)
        : { prompts: state.traffic.get(prefix) ?? 0, total: state.total };

    const known = state.prefixes.match(window, !held.finished);
    if (known?.state === "ignored") return (this.decision = PASS);
    const hits = runDetectors(
      { prefix: window, key: prefix, logprobs: held.logprobs, finished: held.finished },
      { settings, phrases: state.phrases, calibration: state.calibration, recurrence: always(counts) },
    );
    const contained =
      known !== undefined &&
      (known.containment !== null || known.state === "confirmed" || known.state === "remediating");
    const span = spanInWindow(state, held, request.tokenizer);
    if (hits.length === 0 && !contained && !span) return (this.decision = PASS);
    if (span?.value.rule && !hits.some((h) => h.detector === "phrase")) {
      hits.push(phraseHit(span.value.rule));
      hits.sort((a, b) => b.score - a.score);
    }

    // A span alone (no hit, no contained prefix) is contained as that span is; otherwise the stricter.
    const own = containmentFor(known, settings);
    const spanOnly = span && hits.length === 0 && !contained;
    const containment = !span ? own : spanOnly ? span.value.containment : stricter(own, span.value.containment);
    const decision = (this.decision = decide(containment, held, settings, attempt, span ?? undefined));
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
        promptHash: this.prompt(),
        excerpt: state.settings.storeExcerpts ? excerpt(request.promptText) : undefined,
        modelVersion: request.modelVersion,
        requestId: request.requestId,
        ...(request.client !== undefined && { clientHash: clientHash(request.client) }),
        action,
        at: this.runtime.now(),
      },
      sample: span.key,
      firstTokens: request.tokenizer.encode(span.key).slice(0, 8),
    };
  }

  finish(waitUntil: (promise: Promise<unknown>) => void, answer?: GeneratedAnswer): void {
    if (this.finished) return;
    this.finished = true;
    const found =
      answer && this.state.degraded !== "unavailable"
        ? spanEvents({
            runtime: this.runtime,
            state: this.state,
            request: this.request,
            promptHash: this.prompt(),
            promptWords: this.words(),
            held: this.held,
            answer,
            // A regenerated answer was steered by the guard: tested, but not counted as the model's own.
            counted: this.attempts <= 1,
            action: actionOf(this.decision),
            window: this.pending,
            excerpt: this.state.settings.storeExcerpts ? excerpt(this.request.promptText) : undefined,
          })
        : [];
    if (this.pending) this.runtime.record(this.pending);
    for (const event of found) this.runtime.record(event);
    if (this.runtime.writeDue()) waitUntil(this.runtime.flush(this.target.db, this.target.webhook));
  }

  /** The prompt's span words, read once for its hash and its word set. */
  private spanWords(): readonly SpanWord[] {
    return (this.promptSpanWords ??= spanWordsOf(this.request.promptText));
  }

  /** The prompt's normalised words, computed once. */
  private words(): ReadonlySet<string> {
    return (this.promptWords ??= wordSetOf(this.spanWords()));
  }

  /** The prompt's hash (near-duplicates of a recent prompt share one), computed once. */
  private prompt(): string {
    return (this.promptHash ??= this.runtime.promptHash(this.request.promptText, this.spanWords()));
  }
}

/**
 * A function that returns `value` (made here rather than inline: a named inline arrow costs a
 * `name` definition per response where the build keeps function names).
 */
function always<T>(value: T): () => T {
  return () => value;
}

/** The user-visible text of a templated prompt (special tokens dropped), shortened. */
function excerpt(promptText: string): string {
  return promptText
    .replace(/<\|[a-z]+\|>/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, EXCERPT_CHARS);
}
