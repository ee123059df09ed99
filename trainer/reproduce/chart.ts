/** The ASR / utility bar chart as a standalone SVG, pure. */

/** One group of bars. */
export interface ChartGroup {
  label: string;
  /** Values in [0, 1], one per series. */
  values: number[];
}

/** A series: its name (legend) and colour. */
export interface ChartSeries {
  name: string;
  colour: string;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * Grouped vertical bars on a 0–100% axis with value labels and a legend.
 * Deterministic text output (same input, same bytes).
 */
export function barChartSvg(title: string, series: readonly ChartSeries[], groups: readonly ChartGroup[]): string {
  for (const g of groups) {
    if (g.values.length !== series.length)
      throw new Error(`chart group "${g.label}" has ${g.values.length} values for ${series.length} series`);
  }
  const barW = 22,
    gap = 4,
    groupGap = 30,
    left = 48,
    top = 48,
    plotH = 220,
    bottom = 44;
  const groupW = series.length * barW + (series.length - 1) * gap;
  const width = left + groups.length * (groupW + groupGap) + 10;
  const height = top + plotH + bottom;
  const y = (v: number) => top + plotH * (1 - Math.min(1, Math.max(0, v)));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  series.forEach((s, i) => {
    const x = left + i * 130;
    out.push(
      `<rect x="${x}" y="28" width="10" height="10" fill="${s.colour}"/>`,
      `<text x="${x + 14}" y="37">${esc(s.name)}</text>`,
    );
  });
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    out.push(
      `<line x1="${left}" x2="${width - 10}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(t) + 4}" text-anchor="end">${t * 100}%</text>`,
    );
  }
  groups.forEach((g, gi) => {
    const x0 = left + groupGap / 2 + gi * (groupW + groupGap);
    g.values.forEach((v, si) => {
      const x = x0 + si * (barW + gap);
      const h = Math.max(0, top + plotH - y(v));
      out.push(
        `<rect x="${x}" y="${y(v)}" width="${barW}" height="${h}" fill="${series[si].colour}"><title>${esc(`${g.label}: ${series[si].name} ${(v * 100).toFixed(1)}%`)}</title></rect>`,
      );
      out.push(
        `<text x="${x + barW / 2}" y="${y(v) - 3}" text-anchor="middle" font-size="9">${Math.round(v * 100)}</text>`,
      );
    });
    out.push(`<text x="${x0 + groupW / 2}" y="${top + plotH + 16}" text-anchor="middle">${esc(g.label)}</text>`);
  });
  out.push(`<line x1="${left}" x2="${width - 10}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`, "</svg>");
  return out.join("\n") + "\n";
}
