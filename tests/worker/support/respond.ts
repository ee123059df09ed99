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
  session.finish((p) => writes.push(p));
  await Promise.all(writes);
  return { decision, session, writes };
}
