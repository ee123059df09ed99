import type { LogitMask } from "../../shared/inference/index.js";
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { BannedSequence } from "../../shared/guard/span-ban.js";

/**
 * The contract between serving (worker/openai, worker/model) and the guard
 * (worker/guard): serving holds back the first `prefixTokens` tokens of every
 * response, asks the guard, and applies its decision before anything leaves.
 */
export interface ResponseGuard {
  /** Starts guarding one response. Called before generation. */
  begin(request: GuardRequest): Promise<GuardSession>;
}

/** What the guard knows about a request. */
export interface GuardRequest {
  /**
   * Server-chosen request id. Serving begins one session per choice (`n` > 1), all with the
   * same requestId and promptText, and the guard must count that prompt once (today: events
   * are unique per requestId, sightings per prefix and prompt). A legacy completion with
   * several prompts uses `<request id>/<i>` for prompt i.
   */
  requestId: string;
  /** The prompt as the model sees it (chat template applied, decoded), for hashing and excerpts. */
  promptText: string;
  modelVersion: string;
  tokenizer: Tokenizer;
  /**
   * Who asked (worker/clients: the API key's id, else the CF-Connecting-IP, else "anonymous").
   * The guard stores only its hash with events; the threshold rule caps what one client
   * contributes. Absent when serving does not know (the guard used on its own).
   */
  client?: string;
}

/** The held-back start of a response. */
export interface HeldPrefix {
  tokens: number[];
  /** Per-token log-probabilities under the model (from shared/inference). */
  logprobs: number[];
  /** Decoded text of `tokens`. */
  text: string;
  /** True when the response ended within the window. */
  finished: boolean;
}

/**
 * The whole answer the model generated for a response (the held window included), as far
 * as it got: what the span detector reads when the response is done.
 */
export interface GeneratedAnswer {
  /** Decoded text of `tokens`. */
  text: string;
  tokens: number[];
  logprobs: number[];
  /** True when the model ended the answer (a stop token or max_tokens), false when it was cut short. */
  finished: boolean;
}

/** What to do with a response after its prefix is inspected. */
export type GuardDecision =
  | { action: "pass" }
  /**
   * Strip `chars` characters of the text from `start` (default 0: the flagged prefix; a matched
   * span wherever it sits) and serve the rest.
   */
  | { action: "redact"; chars: number; start?: number }
  /**
   * Generate again from scratch with these first tokens banned (through the logit mask), and
   * these token sequences (a matched span's variants) forbidden at any position
   * (`shared/guard`'s spanBanMask).
   */
  | { action: "regenerate"; bannedFirstTokens: number[]; bannedSpans?: BannedSequence[] }
  /** Refuse: serve `message` instead of the model's text. */
  | { action: "block"; message: string };

/** Guarding of one response. */
export interface GuardSession {
  /** Tokens to hold back before releasing any text. */
  readonly prefixTokens: number;
  /** Optional logit mask for the generation (e.g. bans for prefixes in "regenerate" containment). */
  readonly logitMask?: LogitMask;
  /** Decides on the held prefix. Must be fast (µs): state it needs was loaded in `begin`. */
  inspect(prefix: HeldPrefix): GuardDecision;
  /**
   * Starts watching one generation's text for known-bad spans anywhere in it (absent or
   * undefined: nothing to watch). Serving feeds it the model's text (from the start of the
   * answer), holds back what it is not `safe` to send, and applies each match.
   */
  spans?(): SpanWatch | undefined;
  /**
   * Called once the response is done, with the whole generated answer when serving has it
   * (the span detector reads it; without it only the window was guarded). Database writes go
   * through `waitUntil` and never delay the answer.
   */
  finish(waitUntil: (promise: Promise<unknown>) => void, answer?: GeneratedAnswer): void;
}

/** A known-bad span found in the text: UTF-16 offsets [start, end) in the model's text of the answer. */
export interface SpanMatch {
  start: number;
  end: number;
  /** redact: remove exactly these characters and serve the rest; cut: end the answer before them (content_filter). */
  action: "redact" | "cut";
}

/** Watches one generation's text for known-bad spans, at O(new text) per push. */
export interface SpanWatch {
  /** Feeds the next piece of the model's text; returns the spans it completed, in order. */
  push(text: string): SpanMatch[];
  /** The text ended: the spans its last word completes. */
  end(): SpanMatch[];
  /** Offset before which the text can no longer become part of a span (what may be sent). */
  readonly safe: number;
}
