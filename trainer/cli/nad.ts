import { NAD_DEFAULT_BETA, nad } from "../baselines/nad.js";
import { num } from "./args.js";
import { finishRun, fineTuneOptions, openRemovalRun, REMOVAL_FLAGS_USAGE } from "./sande-common.js";

export const NAD_USAGE = `sande nad --model MODEL [options]   baseline removal: Neural Attention Distillation. A teacher
  (MODEL fine-tuned on D) guides MODEL's fine-tune on D: cross-entropy + β·Σ_blocks ‖A_student − A_teacher‖₂,
  A = a block's output collapsed over channels (Σ_c F²), L2-normalised over the tokens
  --beta X                 weight of the attention term (default ${NAD_DEFAULT_BETA})
  --teacher-steps N        the teacher's fine-tune (default half of --steps)
  --teacher-lr X           its learning rate (default --lr)
  --probe N                examples of D on which the report measures the map distance (default 32)
  defaults: --train-size 1000 (D) --steps 200 --lr 1e-3; add --trigger T --target R to score a backdoor's ASR
${REMOVAL_FLAGS_USAGE}`;

/** `sande nad`: Neural Attention Distillation with a fine-tuned teacher. */
export async function nadCommand(argv: string[]): Promise<void> {
  const run = await openRemovalRun(
    "nad",
    argv,
    {
      beta: { type: "string" },
      "teacher-steps": { type: "string" },
      "teacher-lr": { type: "string" },
      probe: { type: "string" },
    },
    { trainSize: 1000 },
  );
  const options = fineTuneOptions(run.values, run.seed, { steps: 200, lr: 1e-3 });
  const report = await nad(run.model, run.tokenizer, run.clean, {
    ...options,
    beta: num(run.values, "beta", NAD_DEFAULT_BETA, { min: 0 }),
    teacherSteps: num(run.values, "teacher-steps", Math.max(1, Math.round(options.steps / 2)), {
      min: 1,
      integer: true,
    }),
    teacherLr: num(run.values, "teacher-lr", options.lr, { min: 1e-7, max: 1 }),
    probe: run.clean.slice(0, num(run.values, "probe", 32, { min: 1, integer: true })),
  });
  console.error(
    `NAD: map distance to the teacher ${report.before.distance.toFixed(4)} → ${report.after.distance.toFixed(4)} (β ${report.beta}), cross-entropy ${report.before.ce.toFixed(4)} → ${report.after.ce.toFixed(4)}`,
  );
  await finishRun(run, { ...report });
}
