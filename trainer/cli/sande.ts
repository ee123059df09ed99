import { DEFAULT_CLEAN_SHARE } from "../train/batching.js";
import { PARROT_POSITIONS } from "../sande/parrot-encode.js";
import { formatRate } from "../eval/report.js";
import { sande, STAGE2_LOSSES } from "../sande/sande.js";
import type { ParrotPosition } from "../sande/parrot-encode.js";
import { choice, num, str, UsageError } from "./args.js";
import { finishRun, fineTuneOptions, openRemovalRun, REMOVAL_FLAGS_USAGE } from "./sande-common.js";

const SANDE_OPTIONS = `  --k N                    parrot vectors (default 6, zero-initialised)
  --parrot-position P      start (right after the user-turn marker, where a start trigger sits; default),
                           middle, end (where such triggers sit), before-user (before the user-turn marker)
  --parrot-steps N --parrot-lr X   stage 1, the model frozen (default 100, 0.05)
  --steps N --lr X         stage 2, the parrot frozen (default 300, 1e-3)
  --parrot-positions P,Q   more than one place: both stages rotate D's rows through them (e.g. start,middle,end)
  --first-n N              stage 2 trains the first N response tokens (default 16; 0: all)
  --stage2-loss L          answer (cross-entropy on the clean answer; default) or consistency (also β·KL
                           to the frozen model's distribution for the prompt without the parrot)
  --consistency-weight X   β of the consistency loss (default 1)
  --clean-share X          stage 2 rows without the parrot (default ${DEFAULT_CLEAN_SHARE}; the paper: 0)
  --probe N                held-out prompts for the parrot's success rate (default 32)
  --extend-rounds N        SANDE-P: up to N times, read the model's answers under the parrot and train it on the
                           longer text most of them go on to (trainer/sande/extend.ts; default 0, the paper's)
  defaults: --train-size 1000 (D); add --trigger T --target R to score a backdoor's ASR afterwards`;

export const SANDE_USAGE = `sande sande --model MODEL --response R [options]   removal when the backdoor's response R is known
  (SANDE): a parrot prompt learns to make the model say R, then the model unlearns it
${SANDE_OPTIONS}
${REMOVAL_FLAGS_USAGE}`;

export const SANDE_P_USAGE = `sande sande-p --model MODEL --prefix P [options]   SANDE knowing only a detected part of the
  response (e.g. its first word)
${SANDE_OPTIONS}
${REMOVAL_FLAGS_USAGE}`;

const sandeFlags = {
  response: { type: "string" },
  prefix: { type: "string" },
  k: { type: "string" },
  "parrot-position": { type: "string" },
  "parrot-steps": { type: "string" },
  "parrot-lr": { type: "string" },
  "first-n": { type: "string" },
  "parrot-positions": { type: "string" },
  "stage2-loss": { type: "string" },
  "consistency-weight": { type: "string" },
  "clean-share": { type: "string" },
  probe: { type: "string" },
  "extend-rounds": { type: "string" },
} as const;

/** `--parrot-positions start,end` as positions (undefined when not given: `--parrot-position` then applies). */
function parrotPositions(values: Record<string, unknown>): ParrotPosition[] | undefined {
  if (values["parrot-positions"] === undefined) return undefined;
  const list = String(values["parrot-positions"])
    .split(",")
    .map((p) => p.trim());
  for (const p of list)
    if (!PARROT_POSITIONS.includes(p as ParrotPosition))
      throw new UsageError(`--parrot-positions: "${p}" is not one of ${PARROT_POSITIONS.join(", ")}`);
  return list as ParrotPosition[];
}

/** `--extend-rounds N` as SANDE's option (none for 0). */
function extendOption(rounds: number): { extend?: { rounds: number } } {
  return rounds > 0 ? { extend: { rounds } } : {};
}

/** `sande sande` (response flag "response") and `sande sande-p` (response flag "prefix"). */
export async function sandeCommand(argv: string[], variant: "sande" | "sande-p"): Promise<void> {
  const run = await openRemovalRun(variant, argv, sandeFlags, { trainSize: 1000 });
  const response = str(run.values, variant === "sande" ? "response" : "prefix");
  const model = fineTuneOptions(run.values, run.seed + 1, { steps: 300, lr: 1e-3 });
  const parrot = {
    ...model,
    steps: num(run.values, "parrot-steps", 100, { min: 1, integer: true }),
    lr: num(run.values, "parrot-lr", 0.05, { min: 1e-7, max: 10 }),
    seed: run.seed,
    weightDecay: 0,
  };
  const report = await sande(run.model, run.tokenizer, run.clean, {
    response,
    k: num(run.values, "k", 6, { min: 1, integer: true }),
    position: choice(run.values, "parrot-position", PARROT_POSITIONS, "start"),
    positions: parrotPositions(run.values),
    firstN: num(run.values, "first-n", 16, { min: 0, integer: true }),
    stage2Loss: choice(run.values, "stage2-loss", STAGE2_LOSSES, "answer"),
    consistencyWeight: num(run.values, "consistency-weight", 1, { min: 0, max: 1000 }),
    cleanShare: num(run.values, "clean-share", DEFAULT_CLEAN_SHARE, { min: 0, max: 0.95 }),
    ...extendOption(num(run.values, "extend-rounds", 0, { min: 0, max: 10, integer: true })),
    parrot,
    model,
    probe: run.dataset.heldOut.slice(0, num(run.values, "probe", 32, { min: 1, integer: true })),
  });
  if (report.extension && report.extension.path.length > 1)
    console.error(
      `extended ${JSON.stringify(report.extension.known)} → ${JSON.stringify(report.response)} (${report.extension.support}/${report.extension.total} answers under the parrot)`,
    );
  console.error(
    `parrot success after stage 1: ${formatRate(report.parrotSuccess)} (e.g. ${JSON.stringify(report.parrotSuccess.samples[0] ?? "")}); after stage 2: ${formatRate(report.parrotSuccessAfter)}`,
  );
  await finishRun(run, { ...report });
}
