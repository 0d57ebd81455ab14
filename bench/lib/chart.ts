/**
 * A small SVG line chart for benchmark results (records/s against threads, and the like): one
 * file, no dependencies, readable in any browser and on GitHub.
 */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Round step for about `count` ticks between 0 and `max`. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalized = raw / magnitude;
  return (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude;
}

function formatTick(value: number): string {
  if (value >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return String(+value.toFixed(2));
}

export function lineChartSvg(series: readonly Series[], options: ChartOptions): string {
  // The legend sits right of the plot: room for its longest name (~7 px a character at 12 px) and the swatch.
  const legendWidth = 50 + 7 * Math.max(0, ...series.map((s) => s.name.length));
  const width = options.width ?? 550 + legendWidth;
  const height = options.height ?? 420;
  const margin = { top: 40, right: legendWidth, bottom: 50, left: 70 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, xMin + 1);
  const yStep = niceStep(Math.max(...ys, 1), 5);
  const yMax = Math.ceil(Math.max(...ys, 1) / yStep) * yStep;
  const x = (value: number) => margin.left + ((value - xMin) / (xMax - xMin)) * plotWidth;
  const y = (value: number) => margin.top + plotHeight - (value / yMax) * plotHeight;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);
  for (let tick = 0; tick <= yMax + 1e-9; tick += yStep) {
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y(tick)}" y2="${y(tick)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${margin.left - 8}" y="${y(tick) + 4}" text-anchor="end">${formatTick(tick)}</text>`);
  }
  for (const value of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(`<text x="${x(value)}" y="${margin.top + plotHeight + 18}" text-anchor="middle">${formatTick(value)}</text>`);
  }
  parts.push(`<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="black"/>`);
  parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight}" stroke="black"/>`);
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  series.forEach((s, index) => {
    const color = COLORS[index % COLORS.length];
    const path = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of s.points) parts.push(`<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3" fill="${color}"/>`);
    const legendY = margin.top + 10 + index * 18;
    parts.push(`<line x1="${width - margin.right + 15}" x2="${width - margin.right + 35}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${width - margin.right + 40}" y="${legendY + 4}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
