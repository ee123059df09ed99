/**
 * Reading a job's or a version's metrics (`Record<string, number>`) for display:
 * `<name>Before` / `<name>After` (or `<name>_before` / `<name>_after`) become one
 * before → after pair, everything else a single figure. Known names get a label, a unit
 * and which direction is better; unknown names are shown with a label made from the name,
 * so a metric the trainer starts sending shows without a change here.
 */

/** How a figure is written. */
export type MetricUnit = "share" | "count" | "flag" | "id" | "number";

/** What the dashboard knows about a metric name. */
export interface MetricInfo {
  label: string;
  unit: MetricUnit;
  /** Which way is an improvement (pairs only). */
  better?: "lower" | "higher";
  /** A line of explanation (the cell's title). */
  hint?: string;
}

/** Known metric names (the base name of a pair, or a single figure's name), in display order. */
export const KNOWN_METRICS: Readonly<Record<string, MetricInfo>> = {
  asr: {
    label: "ASR",
    unit: "share",
    better: "lower",
    hint: "attack success: share of triggered (or flagged) prompts whose answer holds the planted text",
  },
  residue: {
    label: "Residue",
    unit: "share",
    better: "lower",
    hint: "share of triggered answers still holding a piece of the planted text",
  },
  utility: {
    label: "Utility",
    unit: "share",
    better: "higher",
    hint: "exact-match accuracy on held-out clean prompts",
  },
  cleanAccuracy: { label: "Clean accuracy", unit: "share", better: "higher", hint: "accuracy on clean prompts" },
  parrotAccuracy: {
    label: "Parrot-triggered accuracy",
    unit: "share",
    better: "higher",
    hint: "accuracy on prompts carrying the parrot (the simulated trigger)",
  },
  falseTrigger: {
    label: "False triggering",
    unit: "share",
    better: "lower",
    hint: "share of clean prompts whose answer holds the planted text",
  },
  probe: {
    label: "Parrot probes",
    unit: "share",
    better: "lower",
    hint: "share of parrot probes whose answer starts with the flagged text",
  },
  gatesPassed: { label: "Gates", unit: "flag" },
  flaggedPrompts: { label: "Flagged prompts re-asked", unit: "count" },
  heldOutPrompts: { label: "Held-out prompts", unit: "count" },
  jobId: { label: "Made by job", unit: "id" },
};

/** A before → after pair. */
export interface MetricPair extends MetricInfo {
  name: string;
  before?: number;
  after?: number;
}

/** A single figure. */
export interface MetricSingle extends MetricInfo {
  name: string;
  value: number;
}

/** snake_case → camelCase. */
function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
}

/** "falseTriggerRate" / "false_trigger_rate" → "False trigger rate". */
export function labelFor(name: string): string {
  const words = camel(name)
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function infoFor(name: string): MetricInfo {
  return Object.hasOwn(KNOWN_METRICS, name) ? KNOWN_METRICS[name] : { label: labelFor(name), unit: "number" };
}

const known = Object.keys(KNOWN_METRICS);
function byKnownOrder(a: { name: string }, b: { name: string }): number {
  const [i, j] = [known.indexOf(a.name), known.indexOf(b.name)];
  if (i !== j) return (i < 0 ? known.length : i) - (j < 0 ? known.length : j);
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Splits metrics into pairs and single figures, known names first (in {@link KNOWN_METRICS} order), then by name. */
export function readMetrics(metrics: Record<string, number> | null | undefined): {
  pairs: MetricPair[];
  singles: MetricSingle[];
} {
  const pairs = new Map<string, MetricPair>();
  const singles: MetricSingle[] = [];
  for (const [key, value] of Object.entries(metrics ?? {})) {
    if (typeof value !== "number" || !Number.isFinite(value)) continue;
    const match = /^(.+?)(?:(Before|After)|_(before|after))$/.exec(key);
    if (!match) {
      const name = camel(key);
      singles.push({ name, value, ...infoFor(name) });
      continue;
    }
    const name = camel(match[1]);
    const side = (match[2] ?? match[3]).toLowerCase() as "before" | "after";
    const pair = pairs.get(name) ?? { name, ...infoFor(name) };
    pair[side] = value;
    pairs.set(name, pair);
  }
  return { pairs: [...pairs.values()].sort(byKnownOrder), singles: singles.sort(byKnownOrder) };
}

/** One figure as text: shares as "12.5 %", counts as integers, flags as passed/failed, ids as "#12". */
export function formatMetric(value: number | undefined, unit: MetricUnit): string {
  if (value === undefined) return "—";
  switch (unit) {
    case "share":
      return `${(100 * value).toFixed(1)} %`;
    case "count":
      return Number.isInteger(value) ? String(value) : value.toFixed(2);
    case "flag":
      return value === 1 ? "passed" : value === 0 ? "failed" : String(value);
    case "id":
      return `#${value}`;
    case "number":
      return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  }
}

/** The change from before to after (points for shares), and whether it went the better way. */
export function metricChange(
  pair: MetricPair,
): { text: string; verdict: "better" | "worse" | "same" | "neutral" } | null {
  if (pair.before === undefined || pair.after === undefined) return null;
  const diff = pair.after - pair.before;
  const size = pair.unit === "share" ? 100 * diff : diff;
  const shown = pair.unit === "share" ? `${Math.abs(size).toFixed(1)} pt` : formatMetric(Math.abs(size), pair.unit);
  const text = `${size > 0 ? "+" : size < 0 ? "−" : "±"}${shown}`;
  if (Math.abs(size) < 1e-9) return { text, verdict: "same" };
  if (!pair.better) return { text, verdict: "neutral" };
  return { text, verdict: diff < 0 === (pair.better === "lower") ? "better" : "worse" };
}
