/**
 * One guarded response: generate, hold back the first `prefixTokens` tokens, ask
 * the guard, apply its decision, then release the rest token by token through
 * redaction, the guard's watch for known-bad spans (held back while they may grow into
 * one; removed, or the answer cut before one with `content_filter`), stop-string matching
 * and token alignment (each piece of text carries the tokens it completes, with their
 * log-probabilities). Pure of I/O: the HTTP layer (chat-*.ts, completions-*.ts) frames the pieces.
 */
import {
  chainMasks,
  generate,
  type CausalLM,
  type GenerateResult,
  type GeneratedToken,
  type LogitMask,
} from "../../shared/inference/index.js";
import { spanBanMask, type BannedSequence } from "../../shared/guard/span-ban.js";
import { chatStopTokens, type Tokenizer } from "../../shared/tokenizer/index.js";
import type { GuardDecision, GuardSession } from "../guard/contract.js";
import { ServedText, type ServedPiece as TextPiece, type Withheld } from "./served-text.js";

/** Served when the guard keeps asking to regenerate after the last attempt. */
export const FALLBACK_REFUSAL = "I can't help with that request.";

/** Generations per request when the guard answers "regenerate" (the first one included). */
export const DEFAULT_MAX_ATTEMPTS = 3;

/** Everything one response needs; options were validated by the caller. */
export interface ResponsePlan {
  model: CausalLM;
  tokenizer: Tokenizer;
  promptIds: readonly number[];
  /** ≥ 1. */
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  /** OpenAI stop strings. */
  stop: readonly string[];
  /** The request's own logit hooks (logit_bias, penalties); the guard's masks run after them. */
  logitMask?: LogitMask;
  /** Alternatives to report per token ({@link GeneratedToken.top}); default 0. */
  topLogprobs?: number;
  /** Tokens that end the answer (not served); default the chat template's (`<|end|>`, `<|endoftext|>`). */
  stopTokens?: readonly number[];
  /**
   * List the stop token that ended the answer among the last piece's tokens (legacy
   * completions: OpenAI's and vLLM's logprobs include it, and harnesses count on a
   * generated token at the end); it adds no text. Default false (chat does not list it).
   */
  listStopToken?: boolean;
  /** The guard's session for this response; undefined serves unguarded. */
  session?: GuardSession;
  /** Generations allowed when the guard asks to regenerate; default {@link DEFAULT_MAX_ATTEMPTS}. */
  maxAttempts?: number;
}

/** OpenAI's finish reasons that this server produces. */
export type FinishReason = "stop" | "length" | "content_filter";

/** How a response ended. */
export interface ResponseOutcome {
  finishReason: FinishReason;
  /** Tokens the model generated for the served attempt (held-back ones included). */
  completionTokens: number;
}

/**
 * A piece of the served answer: text, and the model's tokens whose text is now wholly
 * served (with their log-probabilities and offsets in the served text). Text the guard
 * put in place of the model's (a refusal) comes with no tokens; tokens whose text was
 * withheld (redacted, or cut by a stop string) are never in a piece.
 */
export type ServedPiece = TextPiece<GeneratedToken>;

/** A response whose guard decision is made; nothing has been released yet. */
export interface StartedResponse {
  /** The decision applied (after any regenerations); "pass" when unguarded. */
  decision: GuardDecision;
  /** Generations run (1 unless the guard asked to regenerate). */
  attempts: number;
  /** The response, piece by piece (never empty), returning how it ended. Pulling drives the model. */
  pieces: Generator<ServedPiece, ResponseOutcome, void>;
}

/**
 * Runs generation up to the guard's decision (synchronously: the prefix window
 * is generated and inspected before this returns) and returns the rest as a
 * generator. Errors from the inference options or the guard are thrown here,
 * before any text exists.
 */
export function startResponse(plan: ResponsePlan): StartedResponse {
  const { model, tokenizer, promptIds, session } = plan;
  const maxAttempts = plan.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const window = session ? session.prefixTokens : 0;
  const banned = new Set<number>();
  const bannedSpans: BannedSequence[] = [];
  for (let attempt = 1; ; attempt++) {
    const tokens = generate(model, promptIds, {
      maxTokens: plan.maxTokens,
      temperature: plan.temperature,
      topP: plan.topP,
      seed: plan.seed,
      stopTokens: plan.stopTokens ?? chatStopTokens(tokenizer),
      // The guard's masks last: its bans hold whatever the request's hooks did.
      logitMask: chainMasks(
        plan.logitMask,
        session?.logitMask,
        banned.size > 0 ? banFirstTokens([...banned]) : undefined,
        spanBanMask(bannedSpans, tokenizer),
      ),
      topLogprobs: plan.topLogprobs ?? 0,
    });
    const held: GeneratedToken[] = [];
    let ended: GenerateResult | undefined;
    while (held.length < window) {
      const r = tokens.next();
      if (r.done) {
        ended = r.value;
        break;
      }
      held.push(r.value);
    }
    let decision: GuardDecision = session
      ? session.inspect({
          tokens: held.map((t) => t.token),
          logprobs: held.map((t) => t.logprob),
          text: tokenizer.decode(held.map((t) => t.token)),
          finished: ended !== undefined,
        })
      : { action: "pass" };
    if (decision.action === "regenerate") {
      tokens.return(DISCARDED);
      if (attempt < maxAttempts) {
        for (const t of decision.bannedFirstTokens) banned.add(t);
        bannedSpans.push(...(decision.bannedSpans ?? []));
        continue;
      }
      decision = { action: "block", message: FALLBACK_REFUSAL };
    }
    if (decision.action === "block") {
      tokens.return(DISCARDED);
      return { decision, attempts: attempt, pieces: refusal(decision.message, held.length) };
    }
    const withheld: Withheld = { spans: session?.spans?.() };
    if (decision.action === "redact") {
      const start = decision.start ?? 0;
      withheld.removals = [[start, start + decision.chars]];
    }
    return { decision, attempts: attempt, pieces: release(plan, held, tokens, ended, withheld) };
  }
}

/**
 * The model's text: the held tokens (with their own log-probabilities), then the rest as
 * it is generated, each token's text through what the guard withholds and stop strings.
 * A cut before a known-bad span ends the answer with `content_filter` (the model stops too).
 */
function* release(
  plan: ResponsePlan,
  held: readonly GeneratedToken[],
  tokens: Generator<GeneratedToken, GenerateResult, void>,
  ended: GenerateResult | undefined,
  withheld: Withheld,
): Generator<ServedPiece, ResponseOutcome, void> {
  const out = new ServedText<GeneratedToken>(plan.tokenizer, withheld, plan.stop);
  let count = held.length;
  try {
    for (const t of held) {
      const piece = out.push(t);
      if (piece) yield piece;
      if (out.cut) return { finishReason: "content_filter", completionTokens: count };
      if (out.stopped) return { finishReason: "stop", completionTokens: count };
    }
    while (!ended) {
      const r = tokens.next();
      if (r.done) {
        ended = r.value;
        break;
      }
      count++;
      const piece = out.push(r.value);
      if (piece) yield piece;
      if (out.cut) return { finishReason: "content_filter", completionTokens: count };
      if (out.stopped) return { finishReason: "stop", completionTokens: count };
    }
    const tail = out.end(plan.listStopToken ? ended.stopStep : undefined);
    if (tail) yield tail;
    if (out.cut) return { finishReason: "content_filter", completionTokens: count };
    return { finishReason: out.stopped ? "stop" : ended.finishReason, completionTokens: count };
  } finally {
    tokens.return(DISCARDED); // a consumer that stops early stops the model too
  }
}

function* refusal(message: string, generated: number): Generator<ServedPiece, ResponseOutcome, void> {
  if (message) yield { text: message, tokens: [] };
  return { finishReason: "content_filter", completionTokens: generated };
}

/** Bans `tokens` at the first step only (the guard's "regenerate"). */
export function banFirstTokens(tokens: readonly number[]): LogitMask {
  return function banFirst(logits, step) {
    if (step !== 0) return;
    for (const t of tokens) if (t >= 0 && t < logits.length) logits[t] = -Infinity;
  };
}

/** Return value for generators closed early (ignored). */
const DISCARDED: GenerateResult = { finishReason: "stop", tokens: [] };
