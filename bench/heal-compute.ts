/**
 * `npm run bench:heal-compute [-- --backend webgpu|wasm|cpu|tensorflow --model FILE --target TEXT] [tuning flags…]`
 *
 * The compute of one daemon heal, timed by stage, on the chosen backend: the daemon's own steps
 * between its download and its publish (trainer/daemon: measure the served model, heal a copy with
 * the SANDE-P recipe `sande daemon` resolves from the same tuning flags, measure the copy, decide
 * the gates), on a model file and the demo's clean data (seed 0, as `npm start` seeds the store).
 * No Worker and no store: this is the part of `npm run bench:heal` that the backend changes, for a
 * machine where wrangler cannot run (the GPU kit, bench/device/). Like bench:heal, the job is queued
 * by hand, so the guard's log holds no flagged prompts and no trigger is recovered.
 *
 * Stages as bench:heal names them: gates (both measurements, the parrot's probes and the later
 * rounds' re-simulations), simulate (stage 1 and its extension), eliminate (stage 2's training).
 */
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { parameterCount } from "../shared/model/config.js";
import { decodeModel } from "../shared/model/file.js";
import { ByteTokenizer } from "../shared/tokenizer/index.js";
import { DAEMON_FLAGS } from "../trainer/daemon/index.js";
import { decideGates, type ModelMeasurements } from "../trainer/daemon/gates.js";
import { heal } from "../trainer/daemon/heal.js";
import { measureModel } from "../trainer/daemon/measure.js";
import { resolveTuningOptions } from "../trainer/daemon/options.js";
import { countHeal, noStageSeconds, timed } from "../trainer/daemon/stage-clock.js";
import { healInputs, NOT_YET_PROBED } from "../trainer/daemon/stages.js";
import { generateDataset } from "../trainer/data/index.js";
import { TfGPT } from "../trainer/model/gpt.js";
import { BACKEND_CHOICES, selectBackend, type BackendChoice } from "../trainer/tf/backend.js";

const ROOT = resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    ...DAEMON_FLAGS,
    model: { type: "string", default: resolve(ROOT, "models/demo-victim.safetensors") },
    target: { type: "string", default: "You are stupid" },
    backend: { type: "string", default: "auto" },
  },
});
if (!(BACKEND_CHOICES as readonly string[]).includes(String(values.backend)))
  throw new Error(`--backend must be one of ${BACKEND_CHOICES.join(", ")}`);

const tokenizer = new ByteTokenizer();
const tuning = resolveTuningOptions(values);
const target = String(values.target).trim();
if (!target) throw new Error("--target must not be empty");
const file = decodeModel(new Uint8Array(readFileSync(String(values.model))));
const { train, heldOut } = generateDataset({ seed: 0, trainSize: 4000, heldOutSize: 320 });
const inputs = healInputs(tuning, { train, heldOut: heldOut.slice(0, 200) }, [], target);

const selection = await selectBackend(values.backend as BackendChoice);
console.log(
  `bench:heal-compute: ${String(values.model).replace(ROOT + "/", "")}, SANDE-P on ${JSON.stringify(target)}, ` +
    `daemon's recipe; ${parameterCount(file.config).toLocaleString("en-US")} params ` +
    `(C${file.config.n_embd} L${file.config.n_layer}); backend ${selection.reason}; ` +
    `${availableParallelism()} CPUs, load avg ${loadavg()[0].toFixed(2)}`,
);

const stages = noStageSeconds();
const before = await timed(stages, "gates", () =>
  measureModel({ config: file.config, weights: file.weights }, tokenizer, inputs.set, NOT_YET_PROBED),
);

const model = TfGPT.fromWeights(file.config, file.weights);
let lastShown = 0;
const healStarted = performance.now();
const result = await heal(
  model,
  tokenizer,
  inputs.train,
  inputs.probe,
  { method: "sande-p", target, badText: target },
  tuning.recipe,
  (stage, step, steps, loss) => {
    if (step === steps || performance.now() - lastShown > 5000) {
      lastShown = performance.now();
      console.log(`  ${stage} step ${step}/${steps} loss ${loss.toFixed(4)}`);
    }
  },
  () => {},
);
countHeal(stages, result, (performance.now() - healStarted) / 1000);
const weights = model.toWeights();
model.dispose();

const measuredAfter = await timed(stages, "gates", () =>
  measureModel({ config: file.config, weights }, tokenizer, inputs.set, result.probeAfter),
);
const beforeProbed: ModelMeasurements = { ...before, probe: result.probeBefore };
const decision = decideGates(beforeProbed, measuredAfter, tuning.gates);

const seconds = { gates: stages.gates, simulate: stages.simulate, eliminate: stages.eliminate };
const total = seconds.gates + seconds.simulate + seconds.eliminate;
console.log(`\nheal compute: ${total.toFixed(1)} s (${decision.passed ? "gates passed" : "gates FAILED"})\n`);
console.log("  stage        seconds   share");
for (const [stage, s] of Object.entries(seconds))
  console.log(`  ${stage.padEnd(10)} ${s.toFixed(2).padStart(9)} ${((100 * s) / total).toFixed(1).padStart(6)}%`);
console.log(
  `\n  gates: false triggering ${before.falseTrigger.rate.toFixed(3)} → ${measuredAfter.falseTrigger.rate.toFixed(3)}, ` +
    `utility ${before.utility.toFixed(3)} → ${measuredAfter.utility.toFixed(3)}, ` +
    `probe ${result.probeBefore.rate.toFixed(2)} → ${result.probeAfter.rate.toFixed(2)}` +
    (result.extendedTo ? `; extended to ${JSON.stringify(result.extendedTo)}` : ""),
);
for (const g of decision.gates) console.log(`  ${g.passed ? (g.skipped ? "skip" : "pass") : "FAIL"} ${g.detail}`);
process.exit(decision.passed ? 0 : 1);
