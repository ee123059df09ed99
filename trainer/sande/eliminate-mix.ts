/**
 * Stage 2 against several parrots at once (the answer loss): row i of D carries parrot i mod n,
 * and `cleanShare` of the rows are D's examples without a parrot; `avoid` rows of a flagged text to
 * unlearn take part of that share (`avoid.ts`). With one parrot this is the answer-loss `eliminate` of `sande.ts`.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample, type Example } from "../data/index.js";
import type { TfGPT } from "../model/gpt.js";
import { withCleanShare } from "../train/batching.js";
import type { FineTuneOptions, FineTuneSummary } from "../train/finetune.js";
import type { Parrot } from "./parrot.js";
import { encodeParrotStage2, type ParrotLayout } from "./parrot-encode.js";
import { forParrot, stackParrots } from "./parrot-mix.js";
import { parrotTarget } from "./parrot-objective.js";
import { fineTuneWithParrot } from "./parrot-finetune.js";
import { cleanShareBeside, withAvoidRows, type AvoidSet } from "./avoid.js";

/**
 * Trains `model` in place, the parrots frozen, to give D's clean answers (first `firstN` response
 * tokens) with any of `parrots` in the prompt. `layoutOf(m)` places the parrot of the m-th row that
 * carries a given parrot (so positions, if they rotate, rotate within each parrot's rows).
 */
export async function eliminateMix(
  model: TfGPT,
  parrots: readonly Parrot[],
  tokenizer: Tokenizer,
  clean: readonly Example[],
  layoutOf: (m: number) => ParrotLayout,
  firstN: number,
  cleanShare: number,
  options: FineTuneOptions,
  avoid?: AvoidSet,
): Promise<FineTuneSummary> {
  const n = parrots.length;
  const stack = stackParrots(parrots);
  const k = parrots[0].k;
  const parrotRows = clean.map((e, i) => {
    const layout = layoutOf(Math.floor(i / n));
    if (layout.k !== k) throw new Error(`the parrots have ${k} vectors but the layout places ${layout.k}`);
    return forParrot(tokenizer, encodeParrotStage2(tokenizer, e, layout, firstN), k, i % n);
  });
  const answers = withCleanShare(
    parrotRows,
    clean.map((e) => encodeExample(tokenizer, e)),
    cleanShareBeside(cleanShare, avoid),
    options.seed,
  );
  const rows = withAvoidRows(tokenizer, answers, avoid, model.config.n_positions, options.seed);
  const goal = avoid ? "avoid" : "answer";
  try {
    return await fineTuneWithParrot(
      parrotTarget(model, stack, "model", goal),
      rows,
      model.config.n_positions,
      tokenizer,
      {
        label: `sande: model (${n} parrot${n === 1 ? "" : "s"})`,
        ...options,
      },
    );
  } finally {
    stack.dispose();
  }
}
