const COLOURS = ["#d1495b", "#edae49", "#00798c", "#30638e", "#8e6c8a"];
const W = 720;
const H = 180;
const PAD = { left: 36, right: 8, top: 8, bottom: 22 };
const HOUR = 3_600_000;

/** Events per time bucket, per series (a prefix, or a detector). */
export interface ChartPoint {
  key: string;
  /** Start of the bucket, ms. */
  at: number;
  events: number;
}

/** The time axis: `buckets` buckets of `bucketMs` from `since`. */
export interface ChartAxis {
  since: number;
  buckets: number;
  bucketMs: number;
}

/** "13:00" for hourly buckets, "11-26" for longer ones (UTC). */
function bucketLabel(ms: number, bucketMs: number): string {
  const iso = new Date(ms).toISOString();
  return bucketMs < 24 * HOUR ? iso.slice(11, 16) : iso.slice(5, 10);
}

/** Stacked bars of events per bucket and series: inline SVG, no script. Series names are JSX text (escaped). */
export function EventsChart(props: { points: ChartPoint[]; axis: ChartAxis; label: string }) {
  const { points, axis } = props;
  const keys = [...new Set(points.map((s) => s.key))];
  const colour = (k: string) => COLOURS[keys.indexOf(k) % COLOURS.length];
  const totals = new Array<number>(axis.buckets).fill(0);
  const bars: { key: string; bucket: number; y0: number; n: number }[] = [];
  for (const s of points) {
    const bucket = Math.floor((s.at - axis.since) / axis.bucketMs);
    if (bucket < 0 || bucket >= axis.buckets) continue;
    bars.push({ key: s.key, bucket, y0: totals[bucket], n: s.events });
    totals[bucket] += s.events;
  }
  const max = Math.max(1, ...totals);
  const bw = (W - PAD.left - PAD.right) / axis.buckets;
  const y = (v: number) => H - PAD.bottom - ((H - PAD.top - PAD.bottom) * v) / max;
  const label = (b: number) => bucketLabel(axis.since + b * axis.bucketMs, axis.bucketMs);
  const ticks = [...new Set([0, 0.25, 0.5, 0.75].map((f) => Math.floor(f * axis.buckets)).concat(axis.buckets - 1))];
  return (
    <figure style="margin:0">
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.label}>
        <line x1={PAD.left} y1={y(0)} x2={W - PAD.right} y2={y(0)} stroke="#999" />
        <text x={PAD.left - 4} y={y(max) + 4} text-anchor="end" font-size="10">
          {max}
        </text>
        <text x={PAD.left - 4} y={y(0)} text-anchor="end" font-size="10">
          0
        </text>
        {ticks.map((b) => (
          <text x={PAD.left + b * bw + bw / 2} y={H - 6} text-anchor="middle" font-size="10">
            {label(b)}
          </text>
        ))}
        {bars.map((b) => (
          <rect
            x={PAD.left + b.bucket * bw + 1}
            y={y(b.y0 + b.n)}
            width={Math.max(1, bw - 2)}
            height={y(b.y0) - y(b.y0 + b.n)}
            fill={colour(b.key)}
          >
            <title>{`${b.key} — ${b.n} events, ${label(b.bucket)} UTC`}</title>
          </rect>
        ))}
      </svg>
      <figcaption class="legend">
        {props.label} (UTC). {keys.length === 0 && <span class="muted">No flagged events in this period.</span>}
        {keys.map((k) => (
          <span style="margin-right:12px">
            <svg width="10" height="10">
              <rect width="10" height="10" fill={colour(k)} />
            </svg>{" "}
            <code>{k}</code>
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
