import type { Example } from "./example.js";
import { FAMILIES } from "./families.js";

/** Exact-match counts for one family (or overall). `accuracy` is correct/total, 0 when total is 0. */
export interface AccuracyTally {
  correct: number;
  total: number;
  accuracy: number;
}

/** Exact-match accuracy overall (every example counts once) and per family. */
export interface ExactMatchScore {
  overall: AccuracyTally;
  perFamily: Record<string, AccuracyTally>;
}

/** How `scoreExactMatch` compares answers. */
export interface ScoreOptions {
  /**
   * Families compared ignoring letter case. Default: the built-in families that
   * declare `caseInsensitive` (the fact-table ones); every other family, loaded
   * data included, is case-sensitive.
   */
  caseInsensitiveFamilies?: Iterable<string>;
}

const DEFAULT_CASE_INSENSITIVE: ReadonlySet<string> = new Set(
  FAMILIES.filter((f) => f.caseInsensitive).map((f) => f.name),
);

/**
 * Scores `predictions[i]` against `examples[i].output`: equal after trimming
 * surrounding whitespace (and lower-casing, for case-insensitive families).
 */
export function scoreExactMatch(
  examples: readonly Example[],
  predictions: readonly string[],
  options: ScoreOptions = {},
): ExactMatchScore {
  if (examples.length !== predictions.length) {
    throw new Error(`scoreExactMatch: ${predictions.length} predictions for ${examples.length} examples`);
  }
  const caseInsensitive = options.caseInsensitiveFamilies
    ? new Set(options.caseInsensitiveFamilies)
    : DEFAULT_CASE_INSENSITIVE;
  const overall = { correct: 0, total: 0 };
  const counts = new Map<string, { correct: number; total: number }>();
  examples.forEach((example, i) => {
    const fold = caseInsensitive.has(example.family) ? (s: string) => s.trim().toLowerCase() : (s: string) => s.trim();
    const right = fold(predictions[i]) === fold(example.output);
    let family = counts.get(example.family);
    if (!family) counts.set(example.family, (family = { correct: 0, total: 0 }));
    for (const tally of [family, overall]) {
      tally.total++;
      if (right) tally.correct++;
    }
  });
  const perFamily: Record<string, AccuracyTally> = {};
  for (const name of [...counts.keys()].sort()) perFamily[name] = withAccuracy(counts.get(name)!);
  return { overall: withAccuracy(overall), perFamily };
}

function withAccuracy({ correct, total }: { correct: number; total: number }): AccuracyTally {
  return { correct, total, accuracy: total === 0 ? 0 : correct / total };
}

/**
 * Renders a score as a plain-text table: one row per family (alphabetical),
 * then an "overall" row; accuracy as a percentage with one decimal.
 */
export function formatScoreTable(score: ExactMatchScore): string {
  const rows: [string, AccuracyTally][] = [...Object.entries(score.perFamily), ["overall", score.overall]];
  const cells = rows.map(([name, t]) => [
    name,
    String(t.correct),
    String(t.total),
    `${(t.accuracy * 100).toFixed(1)}%`,
  ]);
  const header = ["family", "correct", "total", "accuracy"];
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(header), rule, ...cells.slice(0, -1).map(line), rule, line(cells[cells.length - 1])].join("\n");
}
