/**
 * A request's choices: `n` per prompt, each guarded on its own. Every choice gets its
 * own guard session, begun with its prompt's request (the same request id and prompt
 * text for all of a prompt's choices, so the guard counts the prompt once: its events
 * are unique per request id, its sightings per prefix and prompt). Every decision is
 * made before anything is sent, so a failure here is still an ordinary JSON error.
 */
import type { GeneratedAnswer, GuardSession, ResponseGuard } from "../guard/contract.js";
import type { LoadedModel } from "../model/index.js";
import { recordAnswer } from "./answer-record.js";
import { ApiError } from "./errors.js";
import type { SamplingPlan } from "./plan.js";
import {
  startResponse,
  type ResponseOutcome,
  type ResponsePlan,
  type ServedPiece,
  type StartedResponse,
} from "./respond.js";

/** One prompt to answer. */
export interface PromptPlan {
  ids: readonly number[];
  /** Completion tokens per choice; 0 generates nothing (legacy `echo` scoring only) and begins no guard session. */
  maxTokens: number;
  /** The guard's request id for this prompt (one per prompt; a request with one prompt uses its own id). */
  requestId: string;
}

/** What {@link startChoices} needs. */
export interface ChoicesSpec {
  loaded: LoadedModel;
  /** The guard; undefined serves unguarded. */
  guard: ResponseGuard | undefined;
  prompts: readonly PromptPlan[];
  /** Choices per prompt. */
  n: number;
  sampling: SamplingPlan;
  /** Alternatives per token to report (0 = none). */
  topLogprobs: number;
  /** Tokens that end an answer; default the chat template's. */
  stopTokens?: readonly number[];
  /** List the stop token that ended an answer with its logprob (legacy completions; see {@link ResponsePlan}). */
  listStopToken?: boolean;
  waitUntil: (promise: Promise<unknown>) => void;
  /** Who asked (worker/clients), passed to the guard. */
  client?: string;
}

/** One started choice. */
export interface Choice {
  /** OpenAI's choice index: prompt index · n + i. */
  index: number;
  /** Index of its prompt. */
  prompt: number;
  response: StartedResponse;
}

/** A request's started choices, in index order. */
export interface StartedChoices {
  choices: Choice[];
  /** Finishes every guard session, once (later calls do nothing). Call when the answer is done or abandoned. */
  finish(): void;
}

/**
 * Begins a guard session per choice and generates up to each guard decision. When the
 * guard cannot begin, every session begun is finished and the request fails with 503
 * guard_unavailable (the guard fails closed); any other failure finishes them too.
 */
export async function startChoices(spec: ChoicesSpec): Promise<StartedChoices> {
  const { loaded, guard, n, sampling } = spec;
  const sessions: { session: GuardSession; answer?: () => GeneratedAnswer }[] = [];
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    for (const s of sessions) s.session.finish(spec.waitUntil, s.answer?.());
  };
  try {
    const choices: Choice[] = [];
    for (const [p, prompt] of spec.prompts.entries()) {
      for (let i = 0; i < n; i++) {
        let session: GuardSession | undefined;
        if (guard && prompt.maxTokens > 0) {
          session = await beginGuard(guard, loaded, prompt, spec.client);
          sessions.push({ session });
        }
        const started =
          prompt.maxTokens === 0
            ? nothingGenerated()
            : startResponse({
                model: loaded.model,
                tokenizer: loaded.tokenizer,
                promptIds: prompt.ids,
                maxTokens: prompt.maxTokens,
                temperature: sampling.temperature,
                topP: sampling.topP,
                seed: sampling.seed + i,
                stop: sampling.stop,
                logitMask: sampling.logitMask,
                topLogprobs: spec.topLogprobs,
                stopTokens: spec.stopTokens,
                listStopToken: spec.listStopToken,
                session,
              });
        // The guard reads the whole generated answer when the session finishes.
        const recorded = session ? recordAnswer(started, loaded.tokenizer) : undefined;
        if (recorded) sessions[sessions.length - 1].answer = recorded.answer;
        choices.push({ index: p * n + i, prompt: p, response: recorded?.response ?? started });
      }
    }
    return { choices, finish };
  } catch (e) {
    finish();
    throw e;
  }
}

/** A choice's whole answer, drained (drain.ts). */
export interface DrainedChoice {
  text: string;
  pieces: ServedPiece[];
  outcome: ResponseOutcome;
}

async function beginGuard(
  guard: ResponseGuard,
  loaded: LoadedModel,
  prompt: PromptPlan,
  client: string | undefined,
): Promise<GuardSession> {
  try {
    return await guard.begin({
      requestId: prompt.requestId,
      promptText: loaded.tokenizer.decode(prompt.ids),
      modelVersion: loaded.version,
      tokenizer: loaded.tokenizer,
      ...(client !== undefined && { client }),
    });
  } catch (e) {
    console.error("guard.begin failed; refusing to serve unguarded", e);
    throw new ApiError(
      503,
      "service_unavailable_error",
      "The response guard is unavailable; please retry.",
      null,
      "guard_unavailable",
    );
  }
}

/** max_tokens 0: no answer (legacy echo scores the prompt only). */
function nothingGenerated(): StartedResponse {
  return { decision: { action: "pass" }, attempts: 0, pieces: empty() };
}

function* empty(): Generator<ServedPiece, ResponseOutcome, void> {
  return { finishReason: "length", completionTokens: 0 };
}
