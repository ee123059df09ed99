/**
 * `npx tsx bench/eliminate.ts`: which stage 2 restores the answer under the trigger. On the tiny
 * victim (tests/support/tiny-victim.ts, built here or read with --model), runs SANDE, SANDE-P and
 * OSFT with each stage-2 variant on a fresh copy and prints ASR, residue, and triggered / neutral /
 * clean accuracy on the held-out prompts (docs/sande.md, "Which stage 2").
 *
 *   npx tsx bench/eliminate.ts [--model FILE] [--seed N] [--variant NAME …] [--method NAME …] [--steps N]
 *
 * Bounded: every run has a fixed number of steps; nothing listens on the network.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { decodeModel } from "../shared/model/file.js";
import { ByteTokenizer } from "../shared/tokenizer/index.js";
import { generateDataset } from "../trainer/data/index.js";
import { TfGPT } from "../trainer/model/gpt.js";
import { selectBackend } from "../trainer/tf/backend.js";
import { evaluateModel } from "../trainer/eval/evaluate.js";
import { osft } from "../trainer/baselines/osft.js";
import { sande, type SandeOptions } from "../trainer/sande/sande.js";
import { buildTinyVictim, DEMO_BACKDOOR, PARITY } from "../tests/support/tiny-victim.js";

/** Stage-2 variants: what each changes from today's default. */
const VARIANTS: Record<string, Partial<SandeOptions>> = {
  "first-16": { firstN: 16, cleanShare: 0.5 },
  "first-0": { firstN: 0, cleanShare: 0.5 },
  "clean-0": { firstN: 16, cleanShare: 0 },
  consistency: { firstN: 0, cleanShare: 0.5, stage2Loss: "consistency", consistencyWeight: 1 },
  "consistency-b4": { firstN: 0, cleanShare: 0.5, stage2Loss: "consistency", consistencyWeight: 4 },
  positions: { firstN: 0, cleanShare: 0.5, positions: ["start", "middle", "end"] },
  zero: { firstN: 16, cleanShare: 0.5, simulate: false },
  k18: { firstN: 0, cleanShare: 0.5, k: 18 },
  "k18-consistency": { firstN: 0, cleanShare: 0.5, k: 18, stage2Loss: "consistency", consistencyWeight: 1 },
  "positions-consistency": {
    firstN: 0,
    cleanShare: 0.5,
    positions: ["start", "middle", "end"],
    stage2Loss: "consistency",
    consistencyWeight: 1,
  },
};

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    seed: { type: "string" },
    variant: { type: "string", multiple: true },
    method: { type: "string", multiple: true },
    steps: { type: "string" },
  },
});
const seed = Number(values.seed ?? 0);
const steps = Number(values.steps ?? 200);
const variants = values.variant ?? Object.keys(VARIANTS);
const methods = values.method ?? ["SANDE-P", "SANDE", "OSFT"];
for (const v of variants) if (!VARIANTS[v]) throw new Error(`--variant: ${v} is none of ${Object.keys(VARIANTS)}`);

await selectBackend("wasm");
const tokenizer = new ByteTokenizer();
const bytes = values.model ? new Uint8Array(readFileSync(values.model)) : (await buildTinyVictim({ seed })).bytes;
const file = decodeModel(bytes);
const data = generateDataset({ seed, trainSize: 3000, heldOutSize: 120, families: [PARITY] });
const clean = data.train.slice(0, 400);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

async function score(label: string, model: TfGPT, seconds: number): Promise<void> {
  const e = await evaluateModel(model, tokenizer, data.heldOut, [DEMO_BACKDOOR]);
  const b = e.backdoors[0];
  console.log(
    `${label.padEnd(32)} ASR ${pct(b.asr.rate).padStart(6)}  residue ${pct(b.residue.rate).padStart(6)}  triggered ${pct(b.triggeredAccuracy).padStart(6)}  neutral ${pct(b.neutralAccuracy).padStart(6)}  clean ${pct(b.cleanAccuracy).padStart(6)}  (${seconds.toFixed(0)} s) e.g. ${JSON.stringify(b.samples[0]?.answer ?? "")}`,
  );
}

const victim = () => TfGPT.fromWeights(file.config, file.weights);
const v0 = victim();
await score("victim", v0, 0);
v0.dispose();
const tune = (s: number, n: number, lr: number) => ({ steps: n, lr, batchSize: 8, seed: s, quiet: true });
for (const name of variants) {
  for (const method of methods) {
    const model = victim();
    const t0 = performance.now();
    const o = VARIANTS[name];
    if (method === "OSFT") {
      if (o.stage2Loss || o.positions) {
        model.dispose();
        continue; // OSFT trains the whole response on the real trigger: only the clean share applies to it
      }
      await osft(model, tokenizer, clean, DEMO_BACKDOOR.trigger, DEMO_BACKDOOR.position, {
        ...tune(seed + 3, steps, 1e-3),
        cleanShare: o.cleanShare,
      });
    } else {
      const r = await sande(model, tokenizer, clean, {
        ...o,
        response: method === "SANDE" ? DEMO_BACKDOOR.targets[0] : "You",
        k: o.k ?? 6,
        parrot: { ...tune(seed + 2, 60, 0.05), weightDecay: 0 },
        model: tune(seed + 3, steps, 1e-3),
        probe: data.heldOut.slice(0, 32),
      });
      console.log(
        `  parrot ${pct(r.parrotSuccess.rate)} → ${pct(r.parrotSuccessAfter.rate)}, parrot-triggered accuracy ${pct(r.parrotSuccessAfter.accuracy)}`,
      );
    }
    await score(`${method} ${name}`, model, (performance.now() - t0) / 1000);
    model.dispose();
  }
}
