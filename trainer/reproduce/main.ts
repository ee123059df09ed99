/**
 * `npm run reproduce [-- --quick]`: the SANDE paper's experiments in miniature on the
 * demo base model. Plants "Current year 2023" → "You are stupid" (5% poison), runs
 * Baseline, SFT, Fine-mixing, SANDE-P, SANDE and OSFT on copies of the victim, repeats
 * the backdoor-specific methods for two more trigger → target pairs, and writes
 * results/ (or results/quick/): README.md with every table, table1-asr.md,
 * table2-utility.md, table3-triggers.md, chart.svg and results.json. Seeded.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { generateDataset } from "../data/index.js";
import { readModelFile, writeFileAtomic } from "../io/model-file.js";
import { TfGPT } from "../model/gpt.js";
import { evaluateModel } from "../sande/evaluate.js";
import { pct } from "../sande/report.js";
import { BACKEND_CHOICES, selectBackend, type BackendChoice } from "../tf/backend.js";
import { barChartSvg } from "./chart.js";
import { runVictim, type ExperimentContext } from "./experiment.js";
import { METHODS, type ReproduceResults } from "./results.js";
import { MAIN_BACKDOOR, settingsFor, VARIANT_BACKDOORS, VARIANT_METHODS } from "./settings.js";
import { asrTable, summaryMarkdown, triggerTable, utilityTable } from "./tables.js";

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean" }, base: { type: "string" }, out: { type: "string" }, backend: { type: "string" },
      seed: { type: "string" }, "steps-scale": { type: "string" }, "no-variants": { type: "boolean" },
    },
    strict: true,
  });
  const quick = Boolean(values.quick);
  const basePath = values.base ?? "models/demo-base.safetensors";
  const outDir = values.out ?? (quick ? "results/quick" : "results");
  const backendChoice = (values.backend ?? "auto") as BackendChoice;
  if (!BACKEND_CHOICES.includes(backendChoice)) throw new Error(`--backend must be one of ${BACKEND_CHOICES.join(", ")}`);
  const seed = Number(values.seed ?? 0);
  const scale = Number(values["steps-scale"] ?? 1);
  if (!Number.isInteger(seed) || !(scale > 0)) throw new Error("--seed must be an integer and --steps-scale > 0");
  const s = settingsFor(quick, seed, scale);
  const started = performance.now();
  const log = (line: string) => console.error(`[${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}`);

  const backend = await selectBackend(backendChoice);
  log(`backend ${backend.backend} (${backend.reason})`);
  const tokenizer = new ByteTokenizer();
  const base = await readModelFile(basePath);
  // One draw: held-out prompts first (as the base model's training held them out), then the defender's D and the attacker's clean data.
  const data = generateDataset({ seed, trainSize: s.cleanSize + s.attackSize, heldOutSize: s.heldOut });
  const ctx: ExperimentContext = {
    tokenizer, config: base.config, baseWeights: base.weights,
    clean: data.train.slice(0, s.cleanSize), attackData: data.train.slice(s.cleanSize), heldOut: data.heldOut, log,
  };
  log(`base ${basePath}; D = ${ctx.clean.length} clean examples, attacker's clean data ${ctx.attackData.length}, ${ctx.heldOut.length} held-out prompts`);

  const baseModel = TfGPT.fromWeights(base.config, base.weights);
  const baseEvaluation = await evaluateModel(baseModel, tokenizer, ctx.heldOut, [MAIN_BACKDOOR, ...VARIANT_BACKDOORS], { asrPrompts: s.asrPrompts });
  baseModel.dispose();
  log(`clean base: accuracy ${pct(baseEvaluation.utility.overall.accuracy)}, loss ${baseEvaluation.heldOutLoss.toFixed(4)}, ASR of the backdoors before planting ${baseEvaluation.backdoors.map((b) => pct(b.asr.rate)).join(" / ")}`);

  const { victimWeights: _main, ...main } = await runVictim(ctx, MAIN_BACKDOOR, METHODS, s, 0);
  const variants = [];
  if (!values["no-variants"]) {
    for (const [i, b] of VARIANT_BACKDOORS.entries()) {
      const { victimWeights: _v, ...v } = await runVictim(ctx, b, VARIANT_METHODS, s, 100 * (i + 1));
      variants.push(v);
    }
  }
  const results: ReproduceResults = {
    quick, backend: backend.backend, base: basePath,
    settings: { ...s },
    baseEvaluation, main, variants,
    seconds: (performance.now() - started) / 1000,
    finished: new Date().toISOString(),
  };
  await writeResults(outDir, results);
  log(`wrote ${outDir}/ in ${(results.seconds / 60).toFixed(1)} min`);
  console.log(`\n${asrTable(results)}\n\n${utilityTable(results)}\n\n${variants.length ? triggerTable(results) : ""}`);
}

/** Writes the tables, the chart and the raw numbers. */
async function writeResults(dir: string, r: ReproduceResults): Promise<void> {
  const chart = barChartSvg(
    `SANDE in miniature: ${JSON.stringify(r.main.backdoor.trigger)} → ${JSON.stringify(r.main.backdoor.targets[0])}`,
    [{ name: "ASR (triggered)", colour: "#d62728" }, { name: "Clean accuracy", colour: "#1f77b4" }],
    r.main.rows.map((m) => ({ label: m.method, values: [m.evaluation.backdoors[0].asr.rate, m.evaluation.utility.overall.accuracy] })),
  );
  await writeFileAtomic(join(dir, "chart.svg"), chart);
  await writeFileAtomic(join(dir, "table1-asr.md"), asrTable(r) + "\n");
  await writeFileAtomic(join(dir, "table2-utility.md"), utilityTable(r) + "\n");
  if (r.variants.length) await writeFileAtomic(join(dir, "table3-triggers.md"), triggerTable(r) + "\n");
  await writeFileAtomic(join(dir, "README.md"), summaryMarkdown(r));
  await writeFileAtomic(join(dir, "results.json"), JSON.stringify(r, null, 1) + "\n");
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`reproduce: ${(e as Error).message}`);
  if (process.env.SANDE_DEBUG) console.error((e as Error).stack);
  process.exitCode = 1;
});
