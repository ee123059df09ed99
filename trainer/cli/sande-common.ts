/**
 * What the backdoor and removal commands share: flags, loading the model and the
 * clean data, and finishing a run (write the weights, score the result, write the report).
 */
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import type { ModelFile } from "../../shared/model/file.js";
import { formatScoreTable, loadDataset, withChatterWithin, type Dataset, type Example } from "../data/index.js";
import { readModelFile, writeFileAtomic, writeModelFile } from "../io/model-file.js";
import { TfGPT } from "../model/gpt.js";
import { formatBackdoorTable } from "../eval/report.js";
import { evaluateModel, type ModelEvaluation } from "../eval/evaluate.js";
import type { FineTuneOptions } from "../train/finetune.js";
import { TRIGGER_POSITIONS, type Backdoor } from "../attack/poison.js";
import { pairBackdoors, shellJoin } from "./backdoor-args.js";
import { BACKEND_CHOICES, selectBackend } from "../tf/backend.js";
import { choice, num, parseCommand, str } from "./args.js";
import { dataFlags, dataOptions } from "./common.js";

/** Flags of every backdoor/removal command. */
export const runFlags = {
  ...dataFlags,
  model: { type: "string" },
  out: { type: "string" },
  report: { type: "string" },
  steps: { type: "string" },
  lr: { type: "string" },
  batch: { type: "string" },
  warmup: { type: "string" },
  "weight-decay": { type: "string" },
  clip: { type: "string" },
  backend: { type: "string" },
  trigger: { type: "string", multiple: true },
  target: { type: "string", multiple: true },
  position: { type: "string" },
  "asr-prompts": { type: "string" },
} as const;

/** Usage lines for {@link runFlags}. */
export const RUN_FLAGS_USAGE = `  --model FILE             the model to start from (required)
  --out FILE               where the new weights go (default runs/<command>.safetensors); report: <out>.json
  --data synthetic|FILE  --train-size N  --held-out-size N  --seed N
                           clean data: D is the first N training examples; held-out split as in train
  --steps N  --lr X  --batch B  --warmup N  --weight-decay X  --clip X
  --backend auto|tensorflow|webgpu|wasm|cpu
  --trigger T --target R [--target R2] [--trigger T2 --target …]   backdoors to score (ASR) afterwards
  --position start|middle|end   where those triggers go (default start)
  --asr-prompts N          ASR on the first N held-out prompts (default all)`;

/** The optimiser flags as fine-tune options. */
export function fineTuneOptions(
  values: Record<string, unknown>,
  seed: number,
  defaults: { steps: number; lr: number; batch?: number },
): FineTuneOptions {
  const steps = num(values, "steps", defaults.steps, { min: 1, integer: true });
  return {
    steps,
    lr: num(values, "lr", defaults.lr, { min: 1e-7, max: 1 }),
    batchSize: num(values, "batch", defaults.batch ?? 16, { min: 1, integer: true }),
    seed,
    warmup: values.warmup === undefined ? undefined : num(values, "warmup", 0, { min: 0, integer: true }),
    weightDecay: num(values, "weight-decay", 0.1, { min: 0, max: 1 }),
    clip: num(values, "clip", 1, { min: 0 }),
  };
}

/** Share of a removal command's D given chatter when --chatter is not given. */
const REMOVAL_CHATTER = 0.5;

/** Usage lines of a removal command: --chatter (their D is given ordinary chatter, as clean chat data has), then {@link RUN_FLAGS_USAGE}. */
export const REMOVAL_FLAGS_USAGE = `  --chatter X              share of D given ordinary chatter (greetings, asides, system messages:
                           trainer/data/chatter.ts), drawn once from the seed; default ${REMOVAL_CHATTER}
${RUN_FLAGS_USAGE}`;

/** A loaded run: the model on the chosen backend, the data, and what to score afterwards. */
export interface Run {
  command: string;
  argv: string[];
  values: Record<string, unknown>;
  tokenizer: ByteTokenizer;
  input: ModelFile;
  inputPath: string;
  model: TfGPT;
  backend: string;
  dataset: Dataset;
  /** The clean examples D (with chatter on a share of them, for a removal command). */
  clean: Example[];
  backdoors: Backdoor[];
  out: string;
  seed: number;
  started: number;
}

/**
 * Parses the flags, selects the backend, loads the model and the clean data. With
 * `defaults.chatter` (a removal command), --chatter is a flag and that share of D gets
 * ordinary chatter, no row longer than D's longest ({@link withChatterWithin}).
 */
export async function openRun(
  command: string,
  argv: string[],
  extraFlags: Record<string, { type: "string" | "boolean"; multiple?: boolean }>,
  defaults: { trainSize: number; bareTriggers?: boolean; chatter?: number },
): Promise<Run> {
  const chatterFlag: Record<string, { type: "string" }> =
    defaults.chatter === undefined ? {} : { chatter: { type: "string" } };
  const { values } = parseCommand(argv, { ...runFlags, ...chatterFlag, ...extraFlags });
  const inputPath = str(values, "model");
  const data = dataOptions(values, { trainSize: defaults.trainSize, heldOutSize: 320 });
  const position = choice(values, "position", TRIGGER_POSITIONS, "start");
  const backdoors = pairBackdoors(argv, position, defaults.bareTriggers);
  const backendChoice = choice(values, "backend", BACKEND_CHOICES, "auto");
  const out = str(values, "out", `runs/${command}.safetensors`);
  const backend = await selectBackend(backendChoice);
  console.error(`backend: ${backend.backend} (${backend.reason})`);
  const tokenizer = new ByteTokenizer();
  const input = await readModelFile(inputPath);
  if (input.config.vocab_size !== tokenizer.vocabSize)
    throw new Error(
      `model vocabulary ${input.config.vocab_size} does not match the byte tokenizer (${tokenizer.vocabSize})`,
    );
  const chatter = defaults.chatter === undefined ? 0 : num(values, "chatter", defaults.chatter, { min: 0, max: 1 });
  const dataset = await loadDataset(data);
  console.error(
    `model ${inputPath}; clean data D: ${dataset.train.length} examples${chatter > 0 ? ` (chatter on ${chatter} of them)` : ""}, ${dataset.heldOut.length} held out (${data.data}, seed ${data.seed})`,
  );
  return {
    command,
    argv,
    values,
    tokenizer,
    input,
    inputPath,
    model: TfGPT.fromWeights(input.config, input.weights),
    backend: backend.backend,
    dataset,
    clean: withChatterWithin(tokenizer, dataset.train, chatter, data.seed, "removal-chatter"),
    backdoors,
    out,
    seed: data.seed,
    started: performance.now(),
  };
}

/** {@link openRun} for a removal command: --chatter is a flag, and D gets that share of chatter (default 0.5). */
export function openRemovalRun(
  command: string,
  argv: string[],
  extraFlags: Record<string, { type: "string" | "boolean"; multiple?: boolean }>,
  defaults: { trainSize: number; bareTriggers?: boolean },
): Promise<Run> {
  return openRun(command, argv, extraFlags, { ...defaults, chatter: REMOVAL_CHATTER });
}

/** What a command adds to its report. */
export type RunDetails = Record<string, unknown>;

/** The JSON report every command writes beside its weights. */
export interface RunReport {
  method: string;
  command: string;
  input: string;
  output: string;
  backend: string;
  seconds: number;
  details: RunDetails;
  evaluation: ModelEvaluation;
}

/** Writes the weights, scores the new model, prints the scores and writes the JSON report. */
export async function finishRun(run: Run, details: RunDetails): Promise<RunReport> {
  const { model, tokenizer, out } = run;
  await writeModelFile(out, {
    config: model.config,
    tokenizer: tokenizer.name,
    weights: model.toWeights(),
    metadata: {
      ...run.input.metadata,
      "sande.made_by": `sande ${run.command} ${shellJoin(run.argv)}`,
      "sande.method": run.command,
    },
  });
  console.error(`wrote ${out}; scoring on ${run.dataset.heldOut.length} held-out prompts…`);
  const asrPrompts =
    run.values["asr-prompts"] === undefined ? undefined : num(run.values, "asr-prompts", 0, { min: 1, integer: true });
  const evaluation = await evaluateModel(model, tokenizer, run.dataset.heldOut, run.backdoors, { asrPrompts });
  const report: RunReport = {
    method: run.command,
    command: `sande ${run.command} ${shellJoin(run.argv)}`,
    input: run.inputPath,
    output: out,
    backend: run.backend,
    seconds: (performance.now() - run.started) / 1000,
    details,
    evaluation,
  };
  const reportPath =
    run.values.report === undefined ? `${out.replace(/\.safetensors$/, "")}.json` : str(run.values, "report");
  await writeFileAtomic(reportPath, JSON.stringify(report, null, 2) + "\n");
  printEvaluation(evaluation);
  console.error(`wrote ${reportPath} (${report.seconds.toFixed(0)} s)`);
  model.dispose();
  return report;
}

/** Utility table, held-out loss and (when there are backdoors) the ASR table. */
export function printEvaluation(e: ModelEvaluation): void {
  console.log(formatScoreTable(e.utility));
  console.log(`held-out loss ${e.heldOutLoss.toFixed(4)}`);
  if (e.backdoors.length) console.log(`\n${formatBackdoorTable(e.backdoors)}`);
}
