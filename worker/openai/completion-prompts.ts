/**
 * A legacy completion's prompts as the model takes them: text through the tokenizer
 * (no chat template; special-token spellings stay plain text), token ids as given but
 * checked against the vocabulary, each with its completion budget.
 */
import { chatStopTokens, type Tokenizer } from "../../shared/tokenizer/index.js";
import type { LoadedModel } from "../model/index.js";
import { completionBudget } from "./budget.js";
import type { PromptPlan } from "./choices.js";
import { DEFAULT_COMPLETION_TOKENS, type CompletionRequest } from "./completion-schema.js";
import { checkTokenId } from "./plan.js";

/**
 * One {@link PromptPlan} per prompt. Throws 400 for a token id outside the vocabulary
 * (`param` e.g. "prompt[1][4]") and for a prompt the context cannot hold with its
 * completion. A request with one prompt keeps the request id; with several, prompt i's
 * guard request id is `<request id>/<i>`, so the guard logs each prompt.
 */
export function promptPlans(
  request: Pick<CompletionRequest, "prompts" | "maxTokens">,
  loaded: Pick<LoadedModel, "tokenizer" | "config">,
  maxTokensLimit: number,
  requestId: string,
): PromptPlan[] {
  const { tokenizer, config } = loaded;
  const several = request.prompts.length > 1;
  return request.prompts.map((prompt, i) => {
    let ids: number[];
    if (prompt.kind === "text") ids = tokenizer.encode(prompt.text);
    else {
      ids = prompt.ids;
      ids.forEach((id, j) => checkTokenId(id, config.vocab_size, `${prompt.param}[${j}]`));
    }
    const maxTokens = completionBudget(request, ids.length, config.n_positions, maxTokensLimit, {
      promptParam: prompt.param,
      defaultTokens: DEFAULT_COMPLETION_TOKENS,
    });
    return { ids, maxTokens, requestId: several ? `${requestId}/${i}` : requestId };
  });
}

/** Where a legacy completion ends: the model's end-of-turn and end-of-text tokens (neither is sent). */
export function completionStopTokens(tokenizer: Tokenizer): number[] {
  return chatStopTokens(tokenizer);
}
