import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { parameterCount, preset } from "../../shared/model/config.js";
import { GPTInference } from "../../shared/inference/index.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import {
  addChatter,
  deriveSeed,
  encodeExample,
  epochDraw,
  LengthBucketedBatches,
  formatScoreTable,
  loadDataset,
  makeBatch,
  type Batch,
  type EncodedExample,
} from "../data/index.js";
import { evaluateUtility } from "../eval/utility.js";
import { DEFAULT_NEUTRAL_LENGTH, evaluateRobustness, formatRobustness } from "../eval/robustness.js";
import { readModelFile, writeFileAtomic, writeModelFile } from "../io/model-file.js";
import { TfGPT } from "../model/gpt.js";
import { BACKEND_CHOICES, selectBackend } from "../tf/backend.js";
import { lmTarget } from "../train/lm-objective.js";
import { defaultThreads } from "../train/threads.js";
import { evaluateLoss, trainLoop, type MetricsRecord } from "../train/loop.js";
import { choice, num, parseCommand, str } from "./args.js";
import { dataFlags, dataOptions } from "./common.js";

export const TRAIN_USAGE = `sande train [options]   train a base chat model on clean instruction data
  --preset tiny|demo        model size (default demo); ignored with --init
  --init MODEL              start from these weights instead of a fresh model
  --data synthetic|FILE     built-in tasks (default) or Alpaca JSON/JSONL
  --train-size N            training examples (default 20000)
  --held-out-size N         held-out examples for eval (default 320)
  --steps N                 optimiser steps (default 2000)
  --batch B --seq T         rows per batch (default 16) and the longest row (default 128); rows are
                            grouped by length, and a batch is as long as its longest row
  --chatter X               share of training prompts given ordinary chatter (greetings, context,
                            asides, remarks, a system message; trainer/data/chatter.ts), drawn anew
                            each epoch (default 0.5; 0 trains on the bare prompts)
  --lr X                    peak learning rate (default 3e-3), warm-up then cosine decay
  --prompt-loss-weight X    weight of prompt tokens in the loss (default 0: responses only); a
                            little prompt modelling teaches a fresh model to read and copy bytes
  --warmup N --weight-decay X --clip X
  --seed N                  seeds data, init and shuffling (default 0)
  --backend auto|tensorflow|webgpu|wasm|cpu   (default auto)
  --threads N               threads computing gradients, data-parallel (default: every core on
                            wasm/cpu, 1 on webgpu/tensorflow; SANDE_THREADS sets the default too)
  --eval-every N            held-out loss every N steps (default 500)
  --checkpoint-every N      write the model every N steps (default 500)
  --out FILE                model file (default runs/model.safetensors)
  --metrics FILE            JSON lines (default <out>.metrics.jsonl)
  --card FILE               also write a model card (Markdown)`;

/** `sande train`: a base chat model from clean data, with eval, checkpoints, metrics and an optional model card. */
export async function trainCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, {
    preset: { type: "string" },
    init: { type: "string" },
    steps: { type: "string" },
    batch: { type: "string" },
    seq: { type: "string" },
    lr: { type: "string" },
    chatter: { type: "string" },
    "prompt-loss-weight": { type: "string" },
    warmup: { type: "string" },
    "weight-decay": { type: "string" },
    clip: { type: "string" },
    backend: { type: "string" },
    threads: { type: "string" },
    "eval-every": { type: "string" },
    "checkpoint-every": { type: "string" },
    out: { type: "string" },
    metrics: { type: "string" },
    card: { type: "string" },
    ...dataFlags,
  });
  const data = dataOptions(values, { trainSize: 20000, heldOutSize: 320 });
  const steps = num(values, "steps", 2000, { min: 1, integer: true });
  const batchSize = num(values, "batch", 16, { min: 1, integer: true });
  const seqLen = num(values, "seq", 128, { min: 8, integer: true });
  const lr = num(values, "lr", 3e-3, { min: 1e-7, max: 1 });
  const promptLossWeight = num(values, "prompt-loss-weight", 0, { min: 0, max: 1 });
  const chatter = num(values, "chatter", 0.5, { min: 0, max: 1 });
  const warmup = num(values, "warmup", Math.max(1, Math.round(steps * 0.05)), { min: 0, integer: true });
  const weightDecay = num(values, "weight-decay", 0.1, { min: 0, max: 1 });
  const clip = num(values, "clip", 1, { min: 0 });
  const evalEvery = num(values, "eval-every", 500, { min: 0, integer: true });
  const checkpointEvery = num(values, "checkpoint-every", 500, { min: 0, integer: true });
  const backendChoice = choice(values, "backend", BACKEND_CHOICES, "auto");
  const out = str(values, "out", "runs/model.safetensors");
  const metricsPath = str(values, "metrics", `${out}.metrics.jsonl`);
  const init = values.init === undefined ? undefined : str(values, "init");

  const backend = await selectBackend(backendChoice);
  const threads = num(values, "threads", defaultThreads(backend.backend), { min: 1, integer: true });
  console.error(`backend: ${backend.backend} (${backend.reason}), ${threads} thread${threads === 1 ? "" : "s"}`);
  const tokenizer = new ByteTokenizer();
  const start = init ? await readModelFile(init) : undefined;
  const config = start ? start.config : preset(str(values, "preset", "demo"));
  if (seqLen > config.n_positions)
    throw new Error(`--seq ${seqLen} is longer than the model's context (${config.n_positions})`);
  if (config.vocab_size !== tokenizer.vocabSize)
    throw new Error(
      `model vocabulary ${config.vocab_size} does not match the ${tokenizer.name} tokenizer (${tokenizer.vocabSize})`,
    );
  const model = start ? TfGPT.fromWeights(config, start.weights) : TfGPT.init(config, data.seed);
  console.error(
    `model: ${parameterCount(config).toLocaleString("en")} parameters (C${config.n_embd} L${config.n_layer} H${config.n_head}), ${start ? `from ${init}` : "fresh"}`,
  );

  const dataset = await loadDataset(data);
  const draw = epochDraw(dataset.train, deriveSeed(data.seed, "batches"), (e, rng) =>
    weightPrompt(encodeExample(tokenizer, addChatter(e, rng, { rate: chatter })), promptLossWeight),
  );
  const heldOutBatches = chunkBatches(
    dataset.heldOut.map((e) => encodeExample(tokenizer, e)),
    batchSize,
    seqLen,
  );
  console.error(`data: ${dataset.train.length} train, ${dataset.heldOut.length} held out (${data.data})`);
  const batches = new LengthBucketedBatches(draw, { batchSize, maxSeqLen: seqLen, seed: data.seed });
  mkdirSync(dirname(metricsPath), { recursive: true });
  const log = (r: MetricsRecord) =>
    appendFileSync(metricsPath, JSON.stringify({ time: new Date().toISOString(), ...r }) + "\n");
  log({
    kind: "start",
    backend: backend.backend,
    preset: str(values, "preset", "demo"),
    params: parameterCount(config),
    steps,
    batch: batchSize,
    seq: seqLen,
    lr,
    prompt_loss_weight: promptLossWeight,
    chatter,
    seed: data.seed,
  });

  const metadata = (step: number): Record<string, string> => ({
    "sande.made_by": `sande train ${argv.join(" ")}`,
    "sande.step": String(step),
    "sande.data": JSON.stringify({
      data: data.data,
      seed: data.seed,
      trainSize: data.trainSize,
      heldOutSize: data.heldOutSize,
    }),
  });
  const save = async (step: number) => {
    await writeModelFile(out, {
      config,
      tokenizer: tokenizer.name,
      weights: model.toWeights(),
      metadata: metadata(step),
    });
  };
  const result = await trainLoop(lmTarget(model), () => batches.next(), {
    threads,
    steps,
    lr,
    warmup,
    weightDecay,
    clip,
    evalEvery,
    checkpointEvery,
    label: "train",
    evaluate: async () => ({
      held_out_loss: await evaluateLoss((b) => model.loss(b.tokens, b.targets, b.mask), heldOutBatches),
    }),
    checkpoint: save,
    metrics: log,
  });
  console.error(
    `trained ${steps} steps in ${result.seconds.toFixed(0)} s, ${result.tokensPerSecond.toFixed(0)} tok/s; final loss ${result.finalLoss.toFixed(4)}; wrote ${out}`,
  );

  const inference = new GPTInference(config, model.toWeights());
  const utility = evaluateUtility(inference, tokenizer, dataset.heldOut);
  console.log(formatScoreTable(utility));
  log({ kind: "utility", accuracy: utility.overall.accuracy });
  const card = values.card === undefined ? undefined : str(values, "card");
  if (card) {
    const robustness = evaluateRobustness(
      inference,
      tokenizer,
      dataset.heldOut,
      DEFAULT_NEUTRAL_LENGTH,
      utility.overall.accuracy,
    );
    await writeFileAtomic(
      card,
      modelCard({
        name: out,
        command: `npx sande train ${argv.join(" ")}`,
        backend: backend.backend,
        params: parameterCount(config),
        config,
        seconds: result.seconds,
        tokensPerSecond: result.tokensPerSecond,
        finalLoss: result.finalLoss,
        heldOutLoss: Number(result.lastEval?.held_out_loss),
        table: formatScoreTable(utility),
        robustness: formatRobustness(robustness),
        trainSize: dataset.train.length,
        heldOutSize: dataset.heldOut.length,
      }),
    );
    console.error(`wrote ${card}`);
  }
  model.dispose();
}

/** The example with its prompt tokens weighted `weight` in the loss (responses stay 1); held-out loss never uses this. */
export function weightPrompt(encoded: EncodedExample, weight: number): EncodedExample {
  return weight === 0 ? encoded : { ...encoded, lossMask: encoded.lossMask.map((m) => (m === 1 ? 1 : weight)) };
}

/** Held-out examples as fixed batches (the last one may be short). */
export function chunkBatches(encoded: EncodedExample[], batchSize: number, seqLen: number): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < encoded.length; i += batchSize) out.push(makeBatch(encoded.slice(i, i + batchSize), seqLen));
  return out;
}

interface CardFacts {
  name: string;
  command: string;
  backend: string;
  params: number;
  config: object;
  seconds: number;
  tokensPerSecond: number;
  finalLoss: number;
  heldOutLoss: number;
  table: string;
  /** {@link formatRobustness}'s lines. */
  robustness: string;
  trainSize: number;
  heldOutSize: number;
}

function modelCard(f: CardFacts): string {
  return `# ${f.name}

A byte-level GPT-2 chat model trained by sande-edge on clean synthetic instruction tasks.

## How it was made

\`\`\`
${f.command}
\`\`\`

- config: \`${JSON.stringify(f.config)}\`
- parameters: ${f.params.toLocaleString("en")}
- data: ${f.trainSize} training examples, ${f.heldOutSize} held out (distinct prompts)
- backend: ${f.backend}; ${(f.seconds / 60).toFixed(1)} min, ${f.tokensPerSecond.toFixed(0)} tokens/s
- final training loss ${f.finalLoss.toFixed(4)}, held-out loss ${f.heldOutLoss.toFixed(4)}

## Exact-match accuracy on the held-out prompts (greedy)

\`\`\`
${f.table}
\`\`\`

## Robustness: the same prompts with a neutral phrase added (greedy)

A phrase of about 17 characters from the fixed lists in \`trainer/data/neutral.ts\` (never in training
data, disjoint from every trigger in the repository), plain and with a number, inserted at the start,
the middle and the end of the instruction:

\`\`\`
${f.robustness}
\`\`\`
`;
}
