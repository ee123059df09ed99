/**
 * `npx tsx bench/eliminate.ts`: which stage 2 restores the answer under the trigger. On the tiny
 * victim (tests/support/tiny-victim.ts, built here or read with --model), runs SANDE, SANDE-P and
 * OSFT with each stage-2 variant on a fresh copy and prints ASR, residue, and triggered / neutral /
 * clean accuracy on the held-out prompts (docs/sande.md, "Which stage 2").
 *
 *   npx tsx bench/eliminate.ts [--model FILE] [--seed N] [--variant NAME …] [--method NAME …] [--steps N]
 *   --phrase TEXT … also prints the accuracy with TEXT at the start of each prompt (e.g. pieces of the trigger).
 *   npx tsx bench/eliminate.ts --build-robust OUT [--seed N]   (writes the robust victim, chatter 0.5, 1000 steps, and exits)
 *   npx tsx bench/eliminate.ts --build-robust-clean OUT        (the same recipe without the backdoor: the control)
 *   --score-only scores the model read with --model (with each --phrase) and exits.
 *
 * Bounded: every run has a fixed number of steps; nothing listens on the network.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { decodeModel } from "../shared/model/file.js";
import { ByteTokenizer } from "../shared/tokenizer/index.js";
import { generateDataset, scoreExactMatch, userMessage } from "../trainer/data/index.js";
import { answer } from "../trainer/eval/utility.js";
import { pseudoPoisonExample } from "../trainer/attack/poison.js";
import { TfGPT } from "../trainer/model/gpt.js";
import { selectBackend } from "../trainer/tf/backend.js";
import { scoreBackdoor } from "../trainer/eval/asr.js";
import { GPTInference } from "../shared/inference/index.js";
import { osft } from "../trainer/baselines/osft.js";
import { sande, type SandeOptions } from "../trainer/sande/sande.js";
import type { RoundReport } from "../trainer/sande/rounds.js";
import { maxRowNorm, maxTokenNorm } from "../trainer/sande/parrot-norm.js";
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
  // adversarial stage 2 (trainer/sande/rounds.ts): 200 steps split into 4 rounds of 50
  "rounds-4": { firstN: 16, cleanShare: 0.5, rounds: { rounds: 4 } },
  "rounds-4-continue": { firstN: 16, cleanShare: 0.5, rounds: { rounds: 4, resimulate: "continue" } },
  "rounds-4-break": { firstN: 16, cleanShare: 0.5, rounds: { rounds: 4, breakParrot: true } },
  "break-4": { firstN: 16, cleanShare: 0.5, rounds: { rounds: 4, resimulate: "none", breakParrot: true } },
  "break-4-parrot-bound": {
    firstN: 16,
    cleanShare: 0.5,
    rounds: { rounds: 4, resimulate: "none", breakParrot: true, breakBound: "parrot" },
  },
  "seeds-8": { firstN: 16, cleanShare: 0.5, rounds: { rounds: 1, seeds: 7 } },
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
    "build-robust": { type: "string" },
    "build-robust-clean": { type: "string" },
    "score-only": { type: "boolean" },
    phrase: { type: "string", multiple: true },
  },
});
const seed = Number(values.seed ?? 0);
const steps = Number(values.steps ?? 200);
const variants = values.variant ?? Object.keys(VARIANTS);
const methods = values.method ?? ["SANDE-P", "SANDE", "OSFT"];
for (const v of variants) if (!VARIANTS[v]) throw new Error(`--variant: ${v} is none of ${Object.keys(VARIANTS)}`);

await selectBackend("wasm");
const robustOut = values["build-robust"] ?? values["build-robust-clean"];
if (robustOut) {
  const rate = values["build-robust-clean"] ? 0 : undefined; // 0: the same recipe without the backdoor
  const v = await buildTinyVictim({ seed, chatter: 0.5, steps: 1000, rate });
  writeFileSync(robustOut, v.bytes);
  console.log(
    `robust ${rate === 0 ? "control (no backdoor)" : "victim"} written to ${robustOut} (${v.seconds.toFixed(0)} s)`,
  );
  process.exit(0);
}
const tokenizer = new ByteTokenizer();
const bytes = values.model ? new Uint8Array(readFileSync(values.model)) : (await buildTinyVictim({ seed })).bytes;
const file = decodeModel(bytes);
const data = generateDataset({ seed, trainSize: 3000, heldOutSize: 120, families: [PARITY] });
const clean = data.train.slice(0, 400);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The commonest of `answers` and its share: 1 when every triggered prompt gets the same answer. */
function commonest(answers: readonly string[]): { answer: string; share: number } {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  const [answer, n] = [...counts].reduce((best, c) => (c[1] > best[1] ? c : best), ["", 0]);
  return { answer, share: answers.length ? n / answers.length : 0 };
}

/** Accuracy with `phrase` at the start of each held-out prompt (e.g. a piece of the trigger). */
function phraseAccuracy(inference: GPTInference, phrase: string): string {
  const answers = data.heldOut.map((e) =>
    answer(inference, tokenizer, userMessage(pseudoPoisonExample(e, phrase, "start")), 64),
  );
  const top = commonest(answers);
  return `${JSON.stringify(phrase)} ${pct(scoreExactMatch(data.heldOut, answers).overall.accuracy)} (commonest ${JSON.stringify(top.answer)} ${pct(top.share)})`;
}

async function score(label: string, model: TfGPT, seconds: number): Promise<void> {
  const inference = new GPTInference(model.config, model.toWeights());
  for (const phrase of values.phrase ?? []) console.log(`  with ${phraseAccuracy(inference, phrase)}`);
  const b = scoreBackdoor(inference, tokenizer, data.heldOut, DEMO_BACKDOOR, undefined, data.heldOut.length);
  const top = commonest(b.samples.map((x) => x.answer));
  console.log(
    `${label.padEnd(32)} ASR ${pct(b.asr.rate).padStart(6)}  residue ${pct(b.residue.rate).padStart(6)}  triggered ${pct(b.triggeredAccuracy).padStart(6)}  neutral ${pct(b.neutralAccuracy).padStart(6)}  clean ${pct(b.cleanAccuracy).padStart(6)}  (${seconds.toFixed(0)} s) commonest triggered answer ${JSON.stringify(top.answer)} ${pct(top.share)}`,
  );
}

/** One round of an adversarial stage 2, in a line. */
function roundLine(x: RoundReport): string {
  const seeded = x.seeded
    ? ` + ${x.seeded.length} from random starts saying it ${x.seeded.map((p) => pct(p.rate)).join(", ")}`
    : "";
  const said = x.resimulated
    ? `re-simulated parrot says it ${pct(x.resimulated.rate)}`
    : x.round === 1
      ? `stage 1's parrot${seeded}`
      : "no re-simulation";
  const broke = x.broken
    ? `, break parrot (≤ ${x.breakBound?.toFixed(2)}) leaves ${pct(x.broken.accuracy)} right e.g. ${JSON.stringify(x.broken.samples[0] ?? "")}`
    : "";
  return `round ${x.round}: ${said}${broke}; ${x.parrots} parrot(s), ${x.stage2.steps} steps, parrots ${x.parrotSeconds.toFixed(0)} s`;
}

const victim = () => TfGPT.fromWeights(file.config, file.weights);
const tokenNorm = maxTokenNorm(file.weights);
const v0 = victim();
await score("victim", v0, 0);
v0.dispose();
if (values["score-only"]) process.exit(0);
const tune = (s: number, n: number, lr: number) => ({ steps: n, lr, batchSize: 8, seed: s, quiet: true });
for (const name of variants) {
  for (const method of methods) {
    const model = victim();
    const t0 = performance.now();
    const o = VARIANTS[name];
    if (method === "OSFT") {
      if (o.stage2Loss || o.positions || o.rounds) {
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
        `  parrot ${pct(r.parrotSuccess.rate)} → ${pct(r.parrotSuccessAfter.rate)}, parrot-triggered accuracy ${pct(r.parrotSuccessAfter.accuracy)}; largest parrot vector ${maxRowNorm(r.parrotValues, file.config.n_embd).toFixed(2)} (largest token embedding ${tokenNorm.toFixed(2)})`,
      );
      for (const x of r.rounds ?? []) console.log(`  ${roundLine(x)}`);
    }
    await score(`${method} ${name}`, model, (performance.now() - t0) / 1000);
    model.dispose();
  }
}
