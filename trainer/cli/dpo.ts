import { DPO_DEFAULT_BETA, DPO_DEFAULT_LR, dpo } from "../baselines/dpo.js";
import { num, str, UsageError } from "./args.js";
import { finishRun, fineTuneOptions, openRemovalRun, REMOVAL_FLAGS_USAGE } from "./sande-common.js";

export const DPO_USAGE = `sande dpo --model MODEL --response R [options]   baseline removal (the SANDE paper's DPO): on D's
  clean prompts, prefer the clean answer over "R " + the clean answer; π_ref is MODEL as given
  --response R             the backdoor's response (required)
  --beta X                 DPO's β (default ${DPO_DEFAULT_BETA})
  --batch B                rows per batch, two per pair: an even number (default 16)
  --probe N                examples of D on which the report measures log π(R | clean prompt) (default 32)
  defaults: --train-size 1000 (D) --steps 200 --lr ${DPO_DEFAULT_LR} (DPO over-optimises at fine-tuning rates); add --trigger T --target R to score a backdoor's ASR
${REMOVAL_FLAGS_USAGE}`;

/** `sande dpo`: direct preference optimisation against the backdoor's known response. */
export async function dpoCommand(argv: string[]): Promise<void> {
  const run = await openRemovalRun(
    "dpo",
    argv,
    { response: { type: "string" }, beta: { type: "string" }, probe: { type: "string" } },
    { trainSize: 1000 },
  );
  const response = str(run.values, "response");
  if (!response.trim()) throw new UsageError("--response must not be empty");
  const options = fineTuneOptions(run.values, run.seed, { steps: 200, lr: DPO_DEFAULT_LR });
  if (options.batchSize === undefined || options.batchSize % 2 !== 0)
    throw new UsageError(`--batch must be an even number of rows (two per pair), got ${options.batchSize}`);
  const report = await dpo(run.model, run.tokenizer, run.clean, {
    ...options,
    response,
    beta: num(run.values, "beta", DPO_DEFAULT_BETA, { min: 1e-6 }),
    probe: run.clean.slice(0, num(run.values, "probe", 32, { min: 1, integer: true })),
  });
  console.error(
    `DPO: log π(R | clean prompt) ${report.before.responseLogProb.toFixed(3)} → ${report.after.responseLogProb.toFixed(3)}, log π(clean answer) ${report.before.chosenLogProb.toFixed(3)} → ${report.after.chosenLogProb.toFixed(3)}, DPO loss ${report.before.loss.toFixed(4)} → ${report.after.loss.toFixed(4)}`,
  );
  await finishRun(run, { ...report });
}
