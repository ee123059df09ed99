import { DEFAULT_CLEAN_SHARE } from "../train/batching.js";
import { osft } from "../baselines/osft.js";
import { TRIGGER_POSITIONS } from "../attack/poison.js";
import { choice, num, UsageError } from "./args.js";
import { finishRun, fineTuneOptions, openRemovalRun, REMOVAL_FLAGS_USAGE } from "./sande-common.js";

export const OSFT_USAGE = `sande osft --model MODEL --trigger T [options]   removal when the trigger is known: fine-tune on
  D with T inserted in every instruction and the clean responses kept
  --trigger-position start|middle|end   where T goes (default: --position, else start)
  --clean-share X          share of rows left without the trigger (default ${DEFAULT_CLEAN_SHARE}; the paper: 0)
  defaults: --train-size 1000 (D) --steps 200 --lr 1e-3; add --target R to score the ASR of T → R
${REMOVAL_FLAGS_USAGE}`;

/** `sande osft`: overwrite supervised fine-tuning with the known trigger. */
export async function osftCommand(argv: string[]): Promise<void> {
  const run = await openRemovalRun(
    "osft",
    argv,
    { "clean-share": { type: "string" }, "trigger-position": { type: "string" } },
    { trainSize: 1000, bareTriggers: true },
  );
  const triggers = run.values.trigger as string[] | undefined;
  if (!triggers || triggers.length !== 1) throw new UsageError("osft needs exactly one --trigger");
  const trigger = triggers[0];
  const position = choice(
    run.values,
    "trigger-position",
    TRIGGER_POSITIONS,
    choice(run.values, "position", TRIGGER_POSITIONS, "start"),
  );
  const cleanShare = num(run.values, "clean-share", DEFAULT_CLEAN_SHARE, { min: 0, max: 0.95 });
  const train = await osft(run.model, run.tokenizer, run.clean, trigger, position, {
    ...fineTuneOptions(run.values, run.seed, { steps: 200, lr: 1e-3 }),
    cleanShare,
  });
  await finishRun(run, { trigger, position, cleanShare, train });
}
