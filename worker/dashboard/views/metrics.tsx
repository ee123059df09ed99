import { formatMetric, metricChange, readMetrics, type MetricPair } from "../metrics.js";

/** Two thin bars, before (grey) and after, for a share; nothing for other units. */
function ShareBars(props: { pair: MetricPair; verdict: string }) {
  const { before, after, unit } = props.pair;
  if (unit !== "share") return null;
  const width = (v: number | undefined) => Math.round(60 * Math.min(1, Math.max(0, v ?? 0)));
  const fill = props.verdict === "worse" ? "#d1495b" : props.verdict === "better" ? "#2da44e" : "#57606a";
  return (
    <svg width="62" height="12" aria-hidden="true">
      <rect x="0" y="1" width="61" height="4" fill="#eef0f2" />
      <rect x="0" y="1" width={width(before)} height="4" fill="#999" />
      <rect x="0" y="7" width="61" height="4" fill="#eef0f2" />
      <rect x="0" y="7" width={width(after)} height="4" fill={fill} />
    </svg>
  );
}

/** One pair: label, before → after, the change (coloured by whether it went the better way). */
function PairRow(props: { pair: MetricPair }) {
  const { pair } = props;
  const change = metricChange(pair);
  const cssName = /^[A-Za-z][\w-]*$/.test(pair.name) ? ` ${pair.name}` : "";
  return (
    <tr data-metric={pair.name}>
      <th title={pair.hint}>{pair.label}</th>
      <td class={`before-after${cssName}`}>
        {formatMetric(pair.before, pair.unit)} → {formatMetric(pair.after, pair.unit)}
      </td>
      <td class={`delta delta-${change?.verdict ?? "neutral"}`}>{change?.text ?? ""}</td>
      <td>
        <ShareBars pair={pair} verdict={change?.verdict ?? "neutral"} />
      </td>
    </tr>
  );
}

/**
 * A job's or a version's metrics as a small table: before → after pairs first (known
 * names labelled, in a fixed order), then single figures. Unknown names show too.
 */
export function MetricsTable(props: { metrics: Record<string, number> | null | undefined }) {
  const { pairs, singles } = readMetrics(props.metrics);
  if (pairs.length === 0 && singles.length === 0) return <span class="muted">—</span>;
  return (
    <table class="metrics">
      <tbody>
        {pairs.map((pair) => (
          <PairRow pair={pair} />
        ))}
        {singles.map((s) => (
          <tr data-metric={s.name}>
            <th title={s.hint}>{s.label}</th>
            <td colspan={3} class={s.unit === "flag" ? (s.value === 1 ? "delta-better" : "delta-worse") : undefined}>
              {formatMetric(s.value, s.unit)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
