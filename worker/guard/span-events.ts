import {
  answerSpans,
  findSpans,
  normalisePromptWords,
  runConfidence,
  spanStands,
  type SpanFinding,
} from "../../shared/guard/index.js";
import type { DetectorHit } from "../../shared/protocol/guard.js";
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import type { Containment } from "../../shared/protocol/guard.js";
import { sha256Hex } from "../../shared/store/sha256.js";
import { clientHash } from "../clients/hash.js";
import type { GeneratedAnswer, GuardRequest, HeldPrefix } from "./contract.js";
import type { GuardRuntime } from "./runtime.js";
import type { GuardState } from "./state.js";
import { wholeAnswer } from "./whole-answer.js";
import type { PendingEvent } from "./writer.js";

/** What {@link spanEvents} reads: one finished response and where its counts live. */
export interface SpanEventInput {
  runtime: GuardRuntime;
  state: GuardState;
  request: GuardRequest;
  promptHash: string;
  /** The prompt's normalised words (echo is made of them). */
  promptWords: ReadonlySet<string>;
  /** The last window inspected (serving may have withheld it from the answer it reports). */
  held: HeldPrefix | undefined;
  answer: GeneratedAnswer;
  /** Count this answer's spans (false for an answer the guard steered by regenerating). */
  counted: boolean;
  /** What the guard did with the response. */
  action: Containment;
  /** The window's own event, if the window detectors flagged it: it gets the answer hash and a same-key span hit. */
  window: PendingEvent | undefined;
  excerpt: string | undefined;
}

/**
 * The span detector on a finished response: counts its span keys (one sighting per key and
 * one under "" per response), runs the count test, and returns an event per flagged run
 * that is not an ignored finding (a run keyed like the window's event joins that event).
 */
export function spanEvents(input: SpanEventInput): PendingEvent[] {
  const { runtime, state, request } = input;
  const settings = state.settings;
  const answer = wholeAnswer(input.held, input.answer);
  const spans = answerSpans(answer.text, input.promptWords, settings.spanWords);
  const at = runtime.now();
  const answerHash = sha256Hex(normalisePromptWords(answer.text, spans.words));
  const client = request.client !== undefined ? clientHash(request.client) : undefined;
  const sighting = { modelVersion: request.modelVersion, promptHash: input.promptHash, at, answerHash };
  const count = input.counted
    ? runtime.sightSpans(
        { ...sighting, ...(client !== undefined && { clientHash: client }) },
        spans.spans.map((s) => s.key),
        state,
      )
    : runtime.liveCount(request.modelVersion, state);
  if (input.window) input.window.event.answerHash = answerHash;
  const out: PendingEvent[] = [];
  for (const finding of findSpans(answer.text, spans, { settings, baseline: state.spanBaseline, count })) {
    if (state.prefixes.get(finding.key)?.state === "ignored") continue;
    const hits = [finding.hit, ...confidenceOf(finding, answer, request.tokenizer, settings.spanConfidenceProbability)];
    const confident = hits.some((h) => h.detector === "confidence");
    if (!spanStands(finding, confident, settings)) continue; // the count test alone needs the stricter tail
    if (input.window?.event.prefix === finding.key) {
      for (const hit of hits)
        if (!input.window.event.hits.some((h) => h.detector === hit.detector)) input.window.event.hits.push(hit);
      input.window.witnessKey = finding.witnessKey;
      continue;
    }
    out.push({
      event: {
        prefix: finding.key,
        hits,
        score: finding.hit.score,
        promptHash: input.promptHash,
        excerpt: input.excerpt,
        modelVersion: request.modelVersion,
        requestId: request.requestId,
        ...(client !== undefined && { clientHash: client }),
        action: input.action,
        at,
        answerHash,
      },
      sample: finding.text,
      leadIn: finding.leadIn,
      witnessKey: finding.witnessKey,
      firstTokens: request.tokenizer.encode(finding.text).slice(0, 8),
    });
  }
  return out;
}

/** The finding's run as a locked run of near-certain tokens ({@link runConfidence}), as zero or one hit. */
function confidenceOf(
  finding: SpanFinding,
  answer: GeneratedAnswer,
  tokenizer: Tokenizer,
  probability: number,
): DetectorHit[] {
  const hit = runConfidence(
    {
      text: answer.text,
      start: finding.start,
      end: finding.end,
      tokens: answer.tokens,
      logprobs: answer.logprobs,
      tokenBytes: tokenByteLengths(tokenizer),
    },
    probability,
  );
  return hit ? [hit] : [];
}

const byteLengths = new WeakMap<Tokenizer, (token: number) => number>();

/** UTF-8 bytes each token adds to the text, from a table built once per tokenizer. */
function tokenByteLengths(tokenizer: Tokenizer): (token: number) => number {
  let lengths = byteLengths.get(tokenizer);
  if (!lengths) {
    const table = new Uint16Array(tokenizer.vocabSize);
    for (let id = 0; id < table.length; id++) table[id] = tokenizer.bytes([id]).length;
    byteLengths.set(tokenizer, (lengths = (token) => table[token] ?? 0));
  }
  return lengths;
}
