/**
 * Small real implementations of the guard contract (worker/guard/contract.ts)
 * for tests and the unguarded-vs-guarded checks, independent of the D1 guard.
 */
import type { LogitMask } from "../../shared/inference/index.js";
import type {
  GuardDecision,
  GuardRequest,
  GuardSession,
  HeldPrefix,
  ResponseGuard,
} from "../../worker/guard/contract.js";

/** Records everything the serving path did with the guard. */
export interface GuardLog {
  begun: GuardRequest[];
  inspected: HeldPrefix[];
  finished: number;
}

/** Returns `decide(prefix, request, call)` for each inspected prefix, holding back `prefixTokens`. */
export class FunctionGuard implements ResponseGuard {
  readonly log: GuardLog = { begun: [], inspected: [], finished: 0 };

  constructor(
    private readonly decide: (prefix: HeldPrefix, request: GuardRequest, call: number) => GuardDecision,
    private readonly prefixTokens = 4,
    private readonly logitMask?: LogitMask,
  ) {}

  async begin(request: GuardRequest): Promise<GuardSession> {
    this.log.begun.push(request);
    const log = this.log;
    const decide = this.decide;
    let calls = 0;
    let finished = false;
    return {
      prefixTokens: this.prefixTokens,
      logitMask: this.logitMask,
      inspect(prefix) {
        log.inspected.push({ ...prefix, tokens: [...prefix.tokens], logprobs: [...prefix.logprobs] });
        return decide(prefix, request, calls++);
      },
      finish(waitUntil) {
        if (finished) throw new Error("finish called twice");
        finished = true;
        log.finished++;
        waitUntil(Promise.resolve());
      },
    };
  }
}

/** Blocks any response whose held prefix contains `phrase`; passes the rest. */
export function phraseGuard(phrase: string, message = "Blocked by policy.", prefixTokens = 8): FunctionGuard {
  return new FunctionGuard(
    (prefix) => (prefix.text.includes(phrase) ? { action: "block", message } : { action: "pass" }),
    prefixTokens,
  );
}

/**
 * Decides from markers in the user's prompt, so HTTP tests can ask for each
 * decision: "[block]" → block, "[redact:N]" → strip N chars, "[regenerate]" →
 * ban the first held token once; anything else passes.
 */
export function markerGuard(prefixTokens = 4): FunctionGuard {
  return new FunctionGuard((prefix, request, call) => {
    if (request.promptText.includes("[block]")) return { action: "block", message: "Refused by the test guard." };
    const redact = /\[redact:(\d+)\]/.exec(request.promptText);
    if (redact) return { action: "redact", chars: Number(redact[1]) };
    if (request.promptText.includes("[regenerate]") && call === 0 && prefix.tokens.length > 0)
      return { action: "regenerate", bannedFirstTokens: [prefix.tokens[0]] };
    return { action: "pass" };
  }, prefixTokens);
}
