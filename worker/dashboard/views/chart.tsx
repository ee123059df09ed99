const COLOURS = ["#d1495b", "#edae49", "#00798c", "#30638e", "#8e6c8a"];
const W = 720;
const H = 180;
const PAD = { left: 36, right: 8, top: 8, bottom: 22 };

/** Hourly flagged events of the top prefixes as stacked bars: inline SVG, no script. Prefix text is JSX text (escaped). */
export function EventsChart(props: {
  series: { prefix: string; hour: number; events: number }[];
  since: number;
  hours: number;
}) {
  const { series, since, hours } = props;
  const prefixes = [...new Set(series.map((s) => s.prefix))];
  const colour = (p: string) => COLOURS[prefixes.indexOf(p) % COLOURS.length];
  const totals = new Array<number>(hours).fill(0);
  const bars: { prefix: string; bucket: number; y0: number; n: number }[] = [];
  for (const s of series) {
    const bucket = Math.round((s.hour - since) / 3_600_000);
    if (bucket < 0 || bucket >= hours) continue;
    bars.push({ prefix: s.prefix, bucket, y0: totals[bucket], n: s.events });
    totals[bucket] += s.events;
  }
  const max = Math.max(1, ...totals);
  const bw = (W - PAD.left - PAD.right) / hours;
  const y = (v: number) => H - PAD.bottom - ((H - PAD.top - PAD.bottom) * v) / max;
  const hourLabel = (b: number) => new Date(since + b * 3_600_000).toISOString().slice(11, 16);
  return (
    <figure style="margin:0">
      <svg
        width={W}
        height={H}
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Flagged events per hour, last ${hours} hours`}
      >
        <line x1={PAD.left} y1={y(0)} x2={W - PAD.right} y2={y(0)} stroke="#999" />
        <text x={PAD.left - 4} y={y(max) + 4} text-anchor="end" font-size="10">
          {max}
        </text>
        <text x={PAD.left - 4} y={y(0)} text-anchor="end" font-size="10">
          0
        </text>
        {[0, 6, 12, 18, hours - 1].map((b) => (
          <text x={PAD.left + b * bw + bw / 2} y={H - 6} text-anchor="middle" font-size="10">
            {hourLabel(b)}
          </text>
        ))}
        {bars.map((b) => (
          <rect
            x={PAD.left + b.bucket * bw + 1}
            y={y(b.y0 + b.n)}
            width={Math.max(1, bw - 2)}
            height={y(b.y0) - y(b.y0 + b.n)}
            fill={colour(b.prefix)}
          >
            <title>{`${b.prefix} — ${b.n} events, ${hourLabel(b.bucket)} UTC`}</title>
          </rect>
        ))}
      </svg>
      <figcaption class="legend">
        {prefixes.length === 0 && <span class="muted">No flagged events in the last {hours} hours.</span>}
        {prefixes.map((p) => (
          <span style="margin-right:12px">
            <svg width="10" height="10">
              <rect width="10" height="10" fill={colour(p)} />
            </svg>{" "}
            <code>{p}</code>
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
