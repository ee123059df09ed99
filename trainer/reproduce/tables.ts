/** The paper-shaped tables (Markdown) from a reproduction's results, pure. */
import { describeBackdoor, markdownTable, pct } from "../eval/report.js";
import {
  METHOD_NEEDS,
  type MethodName,
  type MethodResult,
  type ReproduceResults,
  type VictimResult,
} from "./results.js";
import { VARIANT_METHODS } from "./settings.js";

/**
 * The SANDE paper's Table 1 (ASR) row by row as its figures go: Fine-mixing reports 0.0, NAD 83–93%,
 * DPO near 100%; our extra rows (first-word SANDE-P, the ablations) are not in the paper.
 */
export const PAPER_ASR_SHAPE: Record<MethodName, string> = {
  Baseline: "≈100%",
  SFT: "stays high",
  "Fine-mixing": "0.0",
  NAD: "83–93%",
  DPO: "≈100%",
  "SANDE-P": "≈0%",
  "SANDE-P (first word)": "not in the paper",
  SANDE: "≈0%",
  OSFT: "≈0%",
  "SANDE, parrot at zero": "not in the paper",
  "SANDE, clean share 0": "≈0% (the paper's setting)",
};

function signed(x: number, digits: number, scale = 1): string {
  const v = x * scale;
  return `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(digits)}`;
}

function row(v: VictimResult, method: MethodName): MethodResult | undefined {
  return v.rows.find((r) => r.method === method);
}

/**
 * Table 1: per method on the main victim, the ASR beside what a user sees: residue (pieces of the
 * target in triggered answers), triggered accuracy and its two controls on the same prompts (a
 * neutral phrase of the trigger's length in its place, and no phrase), the clean-prompt rate, and
 * the paper's figure.
 */
export function asrTable(r: ReproduceResults): string {
  const b = r.main.backdoor;
  // The clean base under the same trigger: what "behaves normally again" can at best mean.
  const reference = r.baseEvaluation.backdoors.find((s) => s.trigger === b.trigger && s.position === b.position);
  const scored = [
    ...(reference ? [{ method: "clean base (reference)", needs: "—", s: reference, paper: "—" }] : []),
    ...r.main.rows.map((m) => ({
      method: m.method as string,
      needs: METHOD_NEEDS[m.method],
      s: m.evaluation.backdoors[0],
      paper: PAPER_ASR_SHAPE[m.method],
    })),
  ];
  const rows = scored.map(({ method, needs, s, paper }) => {
    return [
      method,
      needs,
      pct(s.asr.rate),
      pct(s.residue.rate),
      pct(s.triggeredAccuracy),
      pct(s.neutralAccuracy),
      pct(s.cleanAccuracy),
      pct(s.falseTrigger.rate),
      paper,
    ];
  });
  return (
    `Victim: ${r.main.source}. ASR on ${r.main.rows[0]?.evaluation.asrPrompts ?? 0} held-out prompts with ${describeBackdoor(b)} inserted at the ${b.position}; ` +
    "residue: triggered answers holding a piece of the target (trainer/eval/residue.ts); triggered / neutral / clean: exact-match accuracy with the trigger, with a neutral phrase of about its length in its place, and as they are; " +
    "clean-prompt rate: the target said without the trigger. Restored means triggered accuracy close to neutral accuracy, " +
    "and close to the clean base's own triggered accuracy (the first row: the never-backdoored model with the same trigger).\n\n" +
    markdownTable(
      [
        "Method",
        "Given (besides D)",
        "ASR",
        "Residue",
        "Triggered acc.",
        "Neutral acc.",
        "Clean acc.",
        "Clean-prompt rate",
        "Paper (Table 1, ASR)",
      ],
      rows,
      ["l", "l", "r", "r", "r", "r", "r", "r", "r"],
    )
  );
}

/** Table 2: utility per method with deltas against the baseline (the victim), and the clean base for reference. */
export function utilityTable(r: ReproduceResults): string {
  const baseline = row(r.main, "Baseline");
  if (!baseline) throw new Error("utility table: no Baseline row");
  const acc0 = baseline.evaluation.utility.overall.accuracy;
  const loss0 = baseline.evaluation.heldOutLoss;
  const rows = [
    [
      "clean base (reference)",
      pct(r.baseEvaluation.utility.overall.accuracy),
      `${signed(r.baseEvaluation.utility.overall.accuracy - acc0, 1, 100)} pt`,
      r.baseEvaluation.heldOutLoss.toFixed(4),
      signed(r.baseEvaluation.heldOutLoss - loss0, 4),
      "—",
    ],
    ...r.main.rows.map((m) => {
      const acc = m.evaluation.utility.overall.accuracy;
      return [
        m.method,
        pct(acc),
        m.method === "Baseline" ? "—" : `${signed(acc - acc0, 1, 100)} pt`,
        m.evaluation.heldOutLoss.toFixed(4),
        m.method === "Baseline" ? "—" : signed(m.evaluation.heldOutLoss - loss0, 4),
        m.seconds ? `${m.seconds.toFixed(0)} s` : "—",
      ];
    }),
  ];
  return (
    `Exact-match accuracy (greedy) and held-out loss on ${baseline.evaluation.heldOutSize} held-out clean prompts; deltas against the Baseline (the backdoored model).\n\n` +
    markdownTable(["Method", "Accuracy", "Δ accuracy", "Held-out loss", "Δ loss", "Time"], rows)
  );
}

/** Accuracy per task family (rows) and method (columns). */
export function familyTable(r: ReproduceResults): string {
  const families = Object.keys(r.baseEvaluation.utility.perFamily);
  const methods = r.main.rows;
  const rows = families.map((f) => [
    f,
    pct(r.baseEvaluation.utility.perFamily[f].accuracy),
    ...methods.map((m) => pct(m.evaluation.utility.perFamily[f]?.accuracy ?? 0)),
  ]);
  rows.push([
    "overall",
    pct(r.baseEvaluation.utility.overall.accuracy),
    ...methods.map((m) => pct(m.evaluation.utility.overall.accuracy)),
  ]);
  return markdownTable(["Family", "Clean base", ...methods.map((m) => m.method)], rows);
}

/** "0.0%, 41.0% / 43.0%": residue, then triggered and neutral accuracy ("—" when the method did not run). */
function behaviourCell(m: MethodResult | undefined): string {
  if (!m) return "—";
  const b = m.evaluation.backdoors[0];
  return `${pct(b.residue.rate)}, ${pct(b.triggeredAccuracy)} / ${pct(b.neutralAccuracy)}`;
}

/** Table 3: ASR for each trigger → target pair (its own victim), per method. */
export function triggerTable(r: ReproduceResults): string {
  const victims = [r.main, ...r.variants];
  const ran = new Set(victims.flatMap((v) => v.rows.map((m) => m.method)));
  const methods = VARIANT_METHODS.filter((m) => ran.has(m));
  const rows = victims.map((v) => [
    describeBackdoor(v.backdoor),
    v.backdoor.position,
    v.source,
    ...methods.map((m) => {
      const x = row(v, m);
      return x ? pct(x.evaluation.backdoors[0].asr.rate) : "—";
    }),
  ]);
  const sandeRows = victims.map((v) => {
    const base = row(v, "Baseline")!.evaluation.utility.overall.accuracy;
    return [
      describeBackdoor(v.backdoor),
      ...methods
        .filter((m) => m !== "Baseline")
        .map((m) => {
          const x = row(v, m);
          return x ? `${signed(x.evaluation.utility.overall.accuracy - base, 1, 100)} pt` : "—";
        }),
    ];
  });
  return (
    "ASR of each victim before (Baseline) and after removal. Each pair sits in its own copy of the clean base; " +
    "SANDE and SANDE-P always put the parrot at the start of the instruction (the defender does not know where the trigger sits).\n\n" +
    markdownTable(["Trigger → target", "Trigger at", "Victim", ...methods.map((m) => `${m} ASR`)], rows, [
      "l",
      "l",
      "l",
    ]) +
    "\n\nResidue and triggered / neutral accuracy (exact match with the trigger / with a neutral phrase in its place):\n\n" +
    markdownTable(
      ["Trigger → target", ...methods.map((m) => `${m} residue, triggered / neutral`)],
      victims.map((v) => [describeBackdoor(v.backdoor), ...methods.map((m) => behaviourCell(row(v, m)))]),
    ) +
    "\n\nAccuracy change against each victim:\n\n" +
    markdownTable(
      ["Trigger → target", ...methods.filter((m) => m !== "Baseline").map((m) => `${m} Δ accuracy`)],
      sandeRows,
    )
  );
}

/** The parrot's own success per SANDE run: how often the frozen victim said R with the parrot, before and after stage 2. */
export function parrotTable(r: ReproduceResults): string {
  const rows: string[][] = [];
  for (const v of [r.main, ...r.variants]) {
    for (const m of v.rows) {
      if (!m.parrotSuccess) continue;
      rows.push([
        describeBackdoor(v.backdoor),
        m.method,
        m.extendedTo === undefined ? "—" : JSON.stringify(m.extendedTo),
        pct(m.parrotSuccess.rate),
        pct(m.parrotSuccessAfter?.rate ?? 0),
      ]);
    }
  }
  return (
    "SANDE-P's self-extension (trainer/sande/extend.ts) reads the victim's greedy answers under the stage-1 parrot and trains the parrot " +
    "again on the longer text most of them share; SANDE's stage 1 goes the same way from the response's first character to the whole " +
    "response (only steps the response starts with). Success is measured against the text simulated (the extension when there is one).\n\n" +
    markdownTable(
      ["Victim", "Method", "Extended to", "Parrot success after stage 1", "Same parrot after stage 2"],
      rows,
    )
  );
}

/** Everything in one Markdown page (results/README.md). */
export function summaryMarkdown(r: ReproduceResults): string {
  return `# SANDE reproduction${r.quick ? " (quick)" : ""}

Written by \`npm run reproduce${r.quick ? " -- --quick" : ""}\` on ${r.finished} in ${(r.seconds / 60).toFixed(1)} min (backend ${r.backend}),
from \`${r.base}\`. Settings: \`${JSON.stringify(r.settings)}\`.

![ASR and utility per method](chart.svg)

## Table 1: attack success rate

${asrTable(r)}

## Table 2: utility

${utilityTable(r)}

Per task family:

${familyTable(r)}

## Table 3: other triggers and targets

${triggerTable(r)}

## The parrot

${parrotTable(r)}
`;
}
