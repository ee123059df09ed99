import { fineMixing } from "../baselines/fine-mixing.js";
import { sft } from "../baselines/sft.js";
import { readModelFile } from "../io/model-file.js";
import { num, str } from "./args.js";
import { finishRun, fineTuneOptions, openRemovalRun, REMOVAL_FLAGS_USAGE } from "./sande-common.js";

const REMOVAL_DEFAULTS = "defaults: --train-size 1000 (D) --steps 200 --lr 1e-3";

export const SFT_USAGE = `sande sft --model MODEL [options]   baseline removal: fine-tune on the clean data D
  ${REMOVAL_DEFAULTS}
${REMOVAL_FLAGS_USAGE}`;

export const FINE_MIXING_USAGE = `sande fine-mixing --model MODEL --clean CLEAN [options]   baseline removal: mix weights with
  the clean model (each element kept from MODEL with probability --keep, default 0.5), then fine-tune on D
  ${REMOVAL_DEFAULTS}
${REMOVAL_FLAGS_USAGE}`;

/** `sande sft`: plain supervised fine-tuning on D. */
export async function sftCommand(argv: string[]): Promise<void> {
  const run = await openRemovalRun("sft", argv, {}, { trainSize: 1000 });
  const train = await sft(
    run.model,
    run.tokenizer,
    run.clean,
    fineTuneOptions(run.values, run.seed, { steps: 200, lr: 1e-3 }),
  );
  await finishRun(run, { train });
}

/** `sande fine-mixing`: weight mixing with the clean model, then SFT on D. */
export async function fineMixingCommand(argv: string[]): Promise<void> {
  const run = await openRemovalRun(
    "fine-mixing",
    argv,
    { clean: { type: "string" }, keep: { type: "string" } },
    { trainSize: 1000 },
  );
  const cleanPath = str(run.values, "clean");
  const clean = await readModelFile(cleanPath);
  const keep = num(run.values, "keep", 0.5, { min: 0, max: 1 });
  const train = await fineMixing(run.model, clean.weights, run.tokenizer, run.clean, {
    ...fineTuneOptions(run.values, run.seed, { steps: 200, lr: 1e-3 }),
    keep,
  });
  await finishRun(run, { clean: cleanPath, train });
}
