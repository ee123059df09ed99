import { ByteTokenizer } from "../../../shared/tokenizer/index.js";
import type { GuardDecision, GuardSession, ResponseGuard } from "../../../worker/guard/index.js";

export const tokenizer = new ByteTokenizer();

/** A simulated response: what the guard sees of it. */
export interface FakeResponse {
  prompt: string;
  text: string;
  /** Per-token probability (default 0.5: unremarkable). */
  p?: number;
  finished?: boolean;
  requestId?: string;
  modelVersion?: string;
  /** Who asked (GuardRequest.client); absent as when the guard is used without serving. */
  client?: string;
  /** Hand the whole answer to finish, as serving does (default true). */
  whole?: boolean;
}

let seq = 0;

/** Runs one response through begin → inspect → finish; returns the decision and the writes handed to waitUntil. */
export async function respond(
  guard: ResponseGuard,
  r: FakeResponse,
): Promise<{ decision: GuardDecision; session: GuardSession; writes: Promise<unknown>[] }> {
  const session = await guard.begin({
    requestId: r.requestId ?? `req-${++seq}-${Math.random()}`,
    promptText: `<|user|>${r.prompt}<|end|><|assistant|>`,
    modelVersion: r.modelVersion ?? "v1",
    tokenizer,
    ...(r.client !== undefined && { client: r.client }),
  });
  const tokens = tokenizer.encode(r.text).slice(0, session.prefixTokens);
  const decision = session.inspect({
    tokens,
    logprobs: tokens.map(() => Math.log(r.p ?? 0.5)),
    text: tokenizer.decode(tokens),
    finished: r.finished ?? tokens.length < session.prefixTokens,
  });
  const writes: Promise<unknown>[] = [];
  const all = tokenizer.encode(r.text);
  const answer = {
    text: r.text,
    tokens: all,
    logprobs: all.map(() => Math.log(r.p ?? 0.5)),
    finished: r.finished ?? true,
  };
  session.finish((p) => writes.push(p), r.whole === false ? undefined : answer);
  await Promise.all(writes);
  return { decision, session, writes };
}

const WORDS = ["amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "heron", "iris", "juniper"];

/**
 * A prompt topic spelled in words, distinct for each i < 1000: the guard counts prompts
 * by their normalised text, in which digits are "#", so `prompt ${i}` would be one prompt.
 */
export function topic(i: number): string {
  return [Math.floor(i / 100) % 10, Math.floor(i / 10) % 10, i % 10].map((d) => WORDS[d]).join(" ");
}
