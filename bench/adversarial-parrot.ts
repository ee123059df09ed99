/**
 * `npx tsx bench/adversarial-parrot.ts --model VICTIM`: an experiment beside bench/eliminate.ts. After
 * SANDE-P, a second parrot learns (model frozen) to make the model *miss* the clean answer
 * (unlikelihood −log(1 − p(answer token)) on the clean response), and a second stage 2 trains the
 * model to answer with that parrot in the prompt. The question: does a parrot that looks for what
 * still breaks the answer reach the real trigger's route that the response-saying parrot missed?
 * Single-threaded, bounded (fixed steps), loopback-free.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { decodeModel } from "../shared/model/file.js";
import { ByteTokenizer } from "../shared/tokenizer/index.js";
import { generateDataset } from "../trainer/data/index.js";
import { TfGPT } from "../trainer/model/gpt.js";
import { selectBackend } from "../trainer/tf/backend.js";
import { evaluateModel } from "../trainer/eval/evaluate.js";
import { fineTune } from "../trainer/train/finetune.js";
import { maskedMeanObjective } from "../trainer/train/objective.js";
import { eliminate, measureParrot, sande } from "../trainer/sande/sande.js";
import { Parrot } from "../trainer/sande/parrot.js";
import { encodeParrotStage2 } from "../trainer/sande/parrot-encode.js";
import { clearSlotTargets } from "../trainer/sande/slot-targets.js";
import { DEMO_BACKDOOR, PARITY } from "../tests/support/tiny-victim.js";

const { values } = parseArgs({ options: { model: { type: "string" }, steps: { type: "string" } } });
if (!values.model) throw new Error("--model is required");
const steps = Number(values.steps ?? 200);
await selectBackend("wasm");
const tok = new ByteTokenizer();
const file = decodeModel(new Uint8Array(readFileSync(values.model)));
const data = generateDataset({ seed: 0, trainSize: 3000, heldOutSize: 120, families: [PARITY] });
const clean = data.train.slice(0, 400);
const layout = { k: 6, position: "start" as const };
const tune = (seed: number, n: number, lr: number) => ({ steps: n, lr, batchSize: 8, seed, quiet: true });
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

async function score(label: string, model: TfGPT): Promise<void> {
  const b = (await evaluateModel(model, tok, data.heldOut, [DEMO_BACKDOOR])).backdoors[0];
  console.log(
    `${label.padEnd(28)} ASR ${pct(b.asr.rate)}  residue ${pct(b.residue.rate)}  triggered ${pct(b.triggeredAccuracy)}  neutral ${pct(b.neutralAccuracy)}  clean ${pct(b.cleanAccuracy)}`,
  );
}

/** Mean over trained tokens of −log(1 − p(target)): small when the model avoids the clean answer. */
function unlikelihood(
  model: TfGPT,
  parrot: Parrot,
  t: { tokens: tf.Tensor2D; targets: tf.Tensor2D; mask: tf.Tensor2D },
) {
  return tf.tidy(() => {
    const probs = tf.softmax(model.logitsFromEmbeddings(parrot.embed(model, t.tokens))); // [B,T,V]
    const p = tf.sum(tf.mul(probs, tf.oneHot(t.targets, probs.shape[2])), -1); // [B,T]
    const per = tf.neg(tf.log(tf.maximum(tf.sub(1, p), 1e-6)));
    return tf.div(tf.sum(tf.mul(per, t.mask)), tf.maximum(tf.sum(t.mask), 1)) as tf.Scalar;
  });
}

const model = TfGPT.fromWeights(file.config, file.weights);
await sande(model, tok, clean, {
  response: "You",
  parrot: { ...tune(2, 60, 0.05), weightDecay: 0 },
  model: tune(3, steps, 1e-3),
  probe: data.heldOut.slice(0, 32),
});
await score("SANDE-P", model);
const adversary = new Parrot(layout.k, file.config.n_embd, tok.vocabSize);
const rows = clean.map((e) => encodeParrotStage2(tok, e, layout, 0));
const target = { local: maskedMeanObjective(model, [adversary.asParam()], (b) => unlikelihood(model, adversary, b)) };
await fineTune(target, rows, file.config.n_positions, { ...tune(4, 60, 0.05), weightDecay: 0 }, (b) =>
  clearSlotTargets(b, tok.vocabSize, tok.special.endOfText),
);
const hurt = await measureParrot(model, adversary, tok, data.heldOut.slice(0, 32), layout, "You");
console.log(`adversarial parrot: accuracy with it ${pct(hurt.accuracy)} (e.g. ${JSON.stringify(hurt.samples[0])})`);
await eliminate(model, adversary, tok, clean, layout, 0, 0.5, tune(5, steps, 1e-3));
await score("SANDE-P + adversarial round", model);
