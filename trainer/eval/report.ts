/** Plain-text renderings of SANDE-lab results, pure. */
import type { BackdoorScore, Rate } from "./asr.js";
import type { Backdoor } from "../attack/poison.js";

/** A share as a percentage with one decimal, e.g. "98.4%". */
export function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** A rate as "98.4% (315/320)". */
export function formatRate(r: Rate): string {
  return `${pct(r.rate)} (${r.hits}/${r.total})`;
}

/** `"trigger" → "target"` (targets joined with " | "), with `after "lead-in" | …` when it has lead-ins. */
export function describeBackdoor(b: Pick<Backdoor, "trigger" | "targets" | "leadIns">): string {
  const leadIns = b.leadIns?.length ? ` after ${b.leadIns.map((l) => JSON.stringify(l)).join(" | ")}` : "";
  return `${JSON.stringify(b.trigger)} → ${b.targets.map((t) => JSON.stringify(t)).join(" | ")}${leadIns}`;
}

/** Aligned text table: first column left-aligned, the rest right-aligned. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/**
 * One row per backdoor: position; ASR on triggered prompts and the rate on the clean prompts;
 * residue on triggered and on clean answers; exact-match accuracy triggered, with a neutral phrase
 * in the trigger's place, and clean.
 */
export function formatBackdoorTable(scores: readonly BackdoorScore[]): string {
  return textTable(
    [
      "backdoor",
      "position",
      "ASR",
      "clean-prompt rate",
      "residue",
      "clean residue",
      "acc. triggered",
      "neutral",
      "clean",
    ],
    scores.map((s) => [
      describeBackdoor(s),
      s.position,
      formatRate(s.asr),
      formatRate(s.falseTrigger),
      formatRate(s.residue),
      formatRate(s.cleanResidue),
      pct(s.triggeredAccuracy),
      pct(s.neutralAccuracy),
      pct(s.cleanAccuracy),
    ]),
  );
}

/** Markdown table from a header and rows (cells are escaped for pipes). */
export function markdownTable(header: string[], rows: string[][], align: ("l" | "r")[] = []): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const rule = header.map((_, c) => ((align[c] ?? (c === 0 ? "l" : "r")) === "r" ? "---:" : ":---"));
  return [header, rule, ...rows].map((r, i) => `| ${(i === 1 ? r : r.map(esc)).join(" | ")} |`).join("\n");
}
