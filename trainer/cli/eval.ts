import { GPTInference } from "../../shared/inference/index.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample, formatScoreTable, loadDataset } from "../data/index.js";
import { DEFAULT_NEUTRAL_LENGTH, evaluateRobustness, formatRobustness } from "../eval/robustness.js";
import { evaluateUtility } from "../eval/utility.js";
import { readModelFile } from "../io/model-file.js";
import { TfGPT } from "../model/gpt.js";
import { BACKEND_CHOICES, selectBackend } from "../tf/backend.js";
import { evaluateLoss } from "../train/loop.js";
import { choice, num, parseCommand, UsageError } from "./args.js";
import { dataFlags, dataOptions } from "./common.js";
import { chunkBatches } from "./train.js";
import { scoreBackdoor } from "../eval/asr.js";
import { TRIGGER_POSITIONS } from "../attack/poison.js";
import { formatBackdoorTable } from "../eval/report.js";
import { pairBackdoors } from "./backdoor-args.js";

export const EVAL_USAGE = `sande eval MODEL [options]   utility of a model on held-out clean prompts, as they are and
                             with a neutral phrase (plain, and with a number) at the start, middle and end (robustness)
  --data synthetic|FILE  --seed N  --held-out-size N   (same defaults as train, so the split matches)
  --backend auto|tensorflow|webgpu|wasm|cpu            for the held-out loss (default auto)
  --trigger T --target R [--target R2] [--trigger T2 --target …]
                         also the attack success rate of each backdoor: greedy answers to held-out prompts
                         with T inserted that contain a target in their first 64 characters, and the same
                         rate without T (false triggering); residue (a piece of a target in the first 64
                         characters, not from the prompt) on triggered and clean answers; exact-match
                         accuracy triggered, with a neutral phrase in T's place, and clean
  --position start|middle|end   where the triggers go (default start)
  --asr-prompts N        ASR on the first N held-out prompts (default all)
  --json                 print the result as JSON`;

/** `sande eval`: exact-match accuracy per task family and held-out loss. */
export async function evalCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(
    argv,
    {
      ...dataFlags,
      backend: { type: "string" },
      json: { type: "boolean" },
      trigger: { type: "string", multiple: true },
      target: { type: "string", multiple: true },
      position: { type: "string" },
      "asr-prompts": { type: "string" },
    },
    1,
  );
  const path = positionals[0];
  if (!path) throw new UsageError("MODEL is required");
  const data = dataOptions(values, { trainSize: 20000, heldOutSize: 320 });
  const backendChoice = choice(values, "backend", BACKEND_CHOICES, "auto");
  const backdoors = pairBackdoors(argv, choice(values, "position", TRIGGER_POSITIONS, "start"));
  const model = await readModelFile(path);
  const tokenizer = new ByteTokenizer();
  const { heldOut } = await loadDataset(data);
  const inference = new GPTInference(model.config, model.weights);
  const utility = evaluateUtility(inference, tokenizer, heldOut);
  const robustness = evaluateRobustness(
    inference,
    tokenizer,
    heldOut,
    DEFAULT_NEUTRAL_LENGTH,
    utility.overall.accuracy,
  );
  const asrSet = heldOut.slice(0, num(values, "asr-prompts", heldOut.length, { min: 1, integer: true }));
  const scores = backdoors.map((b) => scoreBackdoor(inference, tokenizer, asrSet, b));
  const backend = await selectBackend(backendChoice);
  const tfModel = TfGPT.fromWeights(model.config, model.weights);
  const seqLen = Math.min(model.config.n_positions, 128);
  const heldOutLoss = await evaluateLoss(
    (b) => tfModel.loss(b.tokens, b.targets, b.mask),
    chunkBatches(
      heldOut.map((e) => encodeExample(tokenizer, e)),
      32,
      seqLen,
    ),
  );
  tfModel.dispose();
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          model: path,
          backend: backend.backend,
          heldOutLoss,
          overall: utility.overall,
          perFamily: utility.perFamily,
          robustness: {
            phraseLength: robustness.phraseLength,
            neutral: robustness.neutral,
            delta: robustness.delta,
            numbered: robustness.numbered,
            numberedDelta: robustness.numberedDelta,
          },
          ...(scores.length ? { backdoors: scores } : {}),
        },
        null,
        2,
      ),
    );
    return;
  }
  console.log(
    `model ${path} — ${heldOut.length} held-out prompts, held-out loss ${heldOutLoss.toFixed(4)} (${backend.backend})`,
  );
  console.log(formatScoreTable(utility));
  console.log(
    `\nrobustness: ${heldOut.length} held-out prompts with a neutral phrase of about ${robustness.phraseLength} characters (trainer/data/neutral.ts)\n${formatRobustness(robustness)}`,
  );
  if (scores.length) console.log(`\nbackdoors, on ${asrSet.length} held-out prompts:\n${formatBackdoorTable(scores)}`);
}
