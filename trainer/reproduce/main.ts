/**
 * `npm run reproduce [-- --quick]`: the SANDE paper's experiments in miniature on the
 * demo models. Takes the committed victim (the demo base with "Current year 2023" →
 * "You are stupid" at 5%; `--build-victim` plants it again with the same recipe), runs
 * Baseline, SFT, Fine-mixing, NAD, DPO, SANDE-P (first token; and first word), SANDE, OSFT and
 * two SANDE ablations (parrot at zero; clean share 0) on copies of it, plants two more
 * trigger → target pairs in copies of the base and heals those too, and writes
 * results/ (or results/quick/): README.md with every table, table1-asr.md,
 * table2-utility.md, table3-triggers.md, chart.svg and results.json. Seeded.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { join } from "node:path";
import type { Weights } from "../../shared/model/weights.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { generateDataset, withChatter } from "../data/index.js";
import { readModelFile, writeFileAtomic } from "../io/model-file.js";
import { TfGPT } from "../model/gpt.js";
import { evaluateModel } from "../eval/evaluate.js";
import { pct } from "../eval/report.js";
import { BACKEND_CHOICES, selectBackend, type BackendChoice } from "../tf/backend.js";
import { barChartSvg } from "./chart.js";
import { describeRecipe, plantVictim, runVictim, type ExperimentContext } from "./experiment.js";
import { METHODS, type ReproduceResults } from "./results.js";
import { MAIN_BACKDOOR, settingsFor, VARIANT_BACKDOORS, VARIANT_METHODS } from "./settings.js";
import { asrTable, summaryMarkdown, triggerTable, utilityTable } from "./tables.js";

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean" },
      base: { type: "string" },
      out: { type: "string" },
      backend: { type: "string" },
      seed: { type: "string" },
      "steps-scale": { type: "string" },
      "no-variants": { type: "boolean" },
      victim: { type: "string" },
      "build-victim": { type: "boolean" },
    },
    strict: true,
  });
  const quick = Boolean(values.quick);
  const basePath = values.base ?? "models/demo-base.safetensors";
  const victimPath = values.victim ?? "models/demo-victim.safetensors";
  const outDir = values.out ?? (quick ? "results/quick" : "results");
  const backendChoice = (values.backend ?? "auto") as BackendChoice;
  if (!BACKEND_CHOICES.includes(backendChoice))
    throw new Error(`--backend must be one of ${BACKEND_CHOICES.join(", ")}`);
  const seed = Number(values.seed ?? 0);
  const scale = Number(values["steps-scale"] ?? 1);
  if (!Number.isInteger(seed) || !(scale > 0)) throw new Error("--seed must be an integer and --steps-scale > 0");
  const s = settingsFor(quick, seed, scale);
  const started = performance.now();
  const log = (line: string) =>
    console.error(`[${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}`);

  const backend = await selectBackend(backendChoice);
  log(`backend ${backend.backend} (${backend.reason})`);
  const tokenizer = new ByteTokenizer();
  const base = await readModelFile(basePath);
  // One draw: held-out prompts first (as the base model's training held them out), then the defender's D and the attacker's clean data.
  const data = generateDataset({ seed, trainSize: s.cleanSize + s.attackSize, heldOutSize: s.heldOut });
  const ctx: ExperimentContext = {
    tokenizer,
    config: base.config,
    baseWeights: base.weights,
    clean: withChatter(data.train.slice(0, s.cleanSize), s.removalChatter, seed, "removal-chatter"),
    attackData: data.train.slice(s.cleanSize),
    heldOut: data.heldOut,
    log,
  };
  log(
    `base ${basePath}; D = ${ctx.clean.length} clean examples (chatter on ${s.removalChatter} of them), attacker's clean data ${ctx.attackData.length}, ${ctx.heldOut.length} held-out prompts`,
  );

  const baseModel = TfGPT.fromWeights(base.config, base.weights);
  const baseEvaluation = await evaluateModel(baseModel, tokenizer, ctx.heldOut, [MAIN_BACKDOOR, ...VARIANT_BACKDOORS], {
    asrPrompts: s.asrPrompts,
  });
  baseModel.dispose();
  log(
    `clean base: accuracy ${pct(baseEvaluation.utility.overall.accuracy)}, loss ${baseEvaluation.heldOutLoss.toFixed(4)}, ASR of the backdoors before planting ${baseEvaluation.backdoors.map((b) => pct(b.asr.rate)).join(" / ")}`,
  );

  const mainVictim = await loadOrPlant(ctx, victimPath, Boolean(values["build-victim"]), s);
  const main = await runVictim(ctx, MAIN_BACKDOOR, mainVictim, METHODS, s, 0);
  const variants = [];
  // Table 3: each pair planted in its own copy of the base (quick: the first pair only).
  for (const [i, b] of (values["no-variants"]
    ? []
    : quick
      ? VARIANT_BACKDOORS.slice(0, 1)
      : VARIANT_BACKDOORS
  ).entries()) {
    const planted = await plantVictim(ctx, b, s.variantPlant, s.seed + 100 * (i + 1));
    variants.push(
      await runVictim(
        ctx,
        b,
        { ...planted, source: `planted in this run (${describeRecipe(s.variantPlant)})` },
        VARIANT_METHODS,
        s,
        100 * (i + 1),
      ),
    );
  }
  const results: ReproduceResults = {
    quick,
    backend: backend.backend,
    base: basePath,
    settings: { ...s },
    baseEvaluation,
    main,
    variants,
    seconds: (performance.now() - started) / 1000,
    finished: new Date().toISOString(),
  };
  await writeResults(outDir, results);
  log(`wrote ${outDir}/ in ${(results.seconds / 60).toFixed(1)} min`);
  console.log(`\n${asrTable(results)}\n\n${utilityTable(results)}\n\n${variants.length ? triggerTable(results) : ""}`);
}

/** The main victim: the committed model file (checked against the base), or planted now with its recipe. */
async function loadOrPlant(
  ctx: ExperimentContext,
  path: string,
  build: boolean,
  s: ReturnType<typeof settingsFor>,
): Promise<{ weights: Weights; seconds: number; source: string }> {
  if (!build && existsSync(path)) {
    const file = await readModelFile(path);
    if (JSON.stringify(file.config) !== JSON.stringify(ctx.config))
      throw new Error(`${path} is not the base's architecture; pass --build-victim or --victim FILE`);
    ctx.log(`victim: ${path} (${file.metadata["sande.made_by"] ?? "no recipe recorded"})`);
    return { weights: file.weights, seconds: 0, source: path };
  }
  const planted = await plantVictim(ctx, MAIN_BACKDOOR, s.mainPlant, s.seed);
  return { ...planted, source: `planted in this run (${describeRecipe(s.mainPlant)})` };
}

/** Writes the tables, the chart and the raw numbers. */
async function writeResults(dir: string, r: ReproduceResults): Promise<void> {
  const chart = barChartSvg(
    `SANDE in miniature: ${JSON.stringify(r.main.backdoor.trigger)} → ${JSON.stringify(r.main.backdoor.targets[0])}`,
    [
      { name: "ASR (triggered)", colour: "#d62728" },
      { name: "Residue (triggered)", colour: "#ff7f0e" },
      { name: "Triggered accuracy", colour: "#2ca02c" },
      { name: "Clean accuracy", colour: "#1f77b4" },
    ],
    r.main.rows.map((m) => {
      const b = m.evaluation.backdoors[0];
      return { label: m.method, values: [b.asr.rate, b.residue.rate, b.triggeredAccuracy, b.cleanAccuracy] };
    }),
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
