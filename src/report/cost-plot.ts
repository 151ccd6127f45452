/**
 * The accuracy-against-cost scatter for the HTML report: one point per model, the Pareto front filled and
 * joined by a step line, dominated models hollow; labelled axes, a legend, a <title> per point.
 */
import { scaleLinear } from 'd3-scale';
import { formatFlops, paretoLabel, type CostPoint, type CostSection } from './cost-section.js';
import { axisLabel, COLOURS, escapeXml, svg } from './plots.js';

export type CostAxis = 'latency' | 'memory';

const AXES = {
  latency: { label: 'latency per image at batch 1 (ms)', value: (p: CostPoint) => p.latencyMs, front: (p: CostPoint) => p.paretoLatency, unit: 'ms' },
  memory: { label: 'peak RSS of an eval (MiB)', value: (p: CostPoint) => p.peakRssMiB, front: (p: CostPoint) => p.paretoMemory, unit: 'MiB' },
} as const;

const r2 = (x: number) => Math.round(x * 100) / 100;

export interface CostScatterLayout {
  width: number;
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
  points: { point: CostPoint; x: number; y: number; front: boolean }[];
  /** the front as a step path: from each front point across to the next cheaper-but-better one */
  frontPath: string;
  xTicks: { value: number; x: number }[];
  yTicks: { value: number; y: number }[];
}

/** Pure geometry: cost on x from 0, accuracy (percent) on y around the points' range. */
export function costScatterLayout(points: readonly CostPoint[], axis: CostAxis, opts: { width?: number; height?: number } = {}): CostScatterLayout {
  const width = opts.width ?? 520;
  const height = opts.height ?? 340;
  const margin = { top: 40, right: 24, bottom: 44, left: 52 };
  const a = AXES[axis];
  const maxCost = Math.max(...points.map(a.value), 1e-9);
  const accs = points.map((p) => p.accuracy);
  const lo = Math.max(0, Math.floor(Math.min(...accs) - 2));
  const hi = Math.min(100, Math.ceil(Math.max(...accs) + 2));
  const x = scaleLinear().domain([0, maxCost * 1.05]).range([margin.left, width - margin.right]).nice();
  const y = scaleLinear().domain([lo, hi === lo ? lo + 1 : hi]).range([height - margin.bottom, margin.top]).nice();
  const placed = points.map((p) => ({ point: p, x: x(a.value(p)), y: y(p.accuracy), front: a.front(p) }));
  const front = placed.filter((p) => p.front).sort((p, q) => p.x - q.x || q.y - p.y);
  const frontPath = front.map((p, i) => (i === 0 ? `M${r2(p.x)},${r2(p.y)}` : `H${r2(p.x)}V${r2(p.y)}`)).join('');
  return {
    width,
    height,
    margin,
    points: placed,
    frontPath,
    xTicks: x.ticks(5).map((value) => ({ value, x: x(value) })),
    yTicks: y.ticks(5).map((value) => ({ value, y: y(value) })),
  };
}

export function costScatterPlot(points: readonly CostPoint[], axis: CostAxis, opts: { title: string; width?: number }): string {
  const L = costScatterLayout(points, axis, opts);
  const a = AXES[axis];
  const bottom = L.height - L.margin.bottom;
  const right = L.width - L.margin.right;
  const body: string[] = [];
  for (const t of L.xTicks) body.push(`<line x1="${r2(t.x)}" x2="${r2(t.x)}" y1="${L.margin.top}" y2="${bottom}" stroke="${COLOURS.grid}"/>`, `<text x="${r2(t.x)}" y="${bottom + 14}" text-anchor="middle" fill="${COLOURS.axis}">${t.value}</text>`);
  for (const t of L.yTicks) body.push(`<line x1="${L.margin.left}" x2="${right}" y1="${r2(t.y)}" y2="${r2(t.y)}" stroke="${COLOURS.grid}"/>`, `<text x="${L.margin.left - 6}" y="${r2(t.y)}" dy="0.35em" text-anchor="end" fill="${COLOURS.axis}">${t.value}</text>`);
  if (L.frontPath) body.push(`<path d="${L.frontPath}" fill="none" stroke="${COLOURS.ours}" stroke-dasharray="4 3"/>`);
  for (const p of L.points) {
    const name = `${p.point.model}${p.point.variant !== 'fp32' ? ` ${p.point.variant}` : ''}`;
    body.push(
      `<g><title>${escapeXml(`${name}: ${p.point.accuracy.toFixed(2)}% at ${a.value(p.point).toFixed(1)} ${a.unit}${p.front ? ' (Pareto front)' : ''}`)}</title>`,
      `<circle cx="${r2(p.x)}" cy="${r2(p.y)}" r="5" fill="${p.front ? COLOURS.ours : '#fff'}" stroke="${COLOURS.ours}" stroke-width="1.5"/>`,
      // labels point into the plot: right of a point in the left half, left of one in the right half
      p.x < (L.margin.left + right) / 2
        ? `<text x="${r2(p.x + 8)}" y="${r2(p.y)}" dy="0.35em">${escapeXml(name.length > 28 ? `${name.slice(0, 27)}…` : name)}</text>`
        : `<text x="${r2(p.x - 8)}" y="${r2(p.y)}" dy="0.35em" text-anchor="end">${escapeXml(name.length > 28 ? `${name.slice(0, 27)}…` : name)}</text>`,
      '</g>',
    );
  }
  // legend, above the plot area
  const ly = 14;
  const lx = L.margin.left + 6;
  body.push(
    '<g class="legend">',
    `<circle cx="${lx}" cy="${ly}" r="5" fill="${COLOURS.ours}" stroke="${COLOURS.ours}" stroke-width="1.5"/>`,
    `<text x="${lx + 10}" y="${ly}" dy="0.35em">Pareto front</text>`,
    `<circle cx="${lx + 110}" cy="${ly}" r="5" fill="#fff" stroke="${COLOURS.ours}" stroke-width="1.5"/>`,
    `<text x="${lx + 120}" y="${ly}" dy="0.35em">dominated</text>`,
    '</g>',
    axisLabel(r2((L.margin.left + right) / 2), L.height - 8, a.label),
    axisLabel(14, r2((L.margin.top + bottom) / 2), 'accuracy (%)', true),
  );
  return svg(L.width, L.height, opts.title, body);
}

/** The report page's cost section: per group a table with the Pareto column and the two scatters. */
export function costSectionHtml(s: CostSection | null): string[] {
  if (!s) return [];
  const out = [
    '<section id="cost"><h2>Accuracy and cost</h2>',
    `<p class="muted">Measured by <code>clip-bench cost</code> on ${escapeXml(s.machine)} (${escapeXml(s.executionProvider)}). Latency: one image at batch 1 (median); memory: peak RSS of an eval. ★ and filled points mark the Pareto front: no other model is at least as accurate and cheaper.</p>`,
  ];
  for (const g of s.groups) {
    const what = g.group === 'mean' ? `mean over ${g.datasets.join(', ')}` : g.group;
    out.push(
      `<h3>${escapeXml(what)}</h3>`,
      '<table class="cost">',
      '<tr><th>model</th><th class="num">accuracy %</th><th class="num">latency ms</th><th class="num">peak RSS MiB</th><th class="num">images/s</th><th class="num">parameters M</th><th class="num">GFLOP/image</th><th>Pareto</th></tr>',
      ...g.points.map(
        (p) =>
          `<tr><td>${escapeXml(p.model)}${p.variant !== 'fp32' ? ` ${escapeXml(p.variant)}` : ''}</td>${[p.accuracy.toFixed(2), p.latencyMs.toFixed(1), p.peakRssMiB.toFixed(0), p.imagesPerSecond.toFixed(1), (p.parameters / 1e6).toFixed(2), formatFlops(p.imageFlops)].map((v) => `<td class="num">${v}</td>`).join('')}<td>${escapeXml(paretoLabel(p))}</td></tr>`,
      ),
      '</table>',
      '<div class="plots">',
      ...(['latency', 'memory'] as const).map((axis) => {
        const title = `${what}: accuracy against ${AXES[axis].label}, Pareto front marked`;
        return `<figure class="plot" data-plot="cost-${axis}">${costScatterPlot(g.points, axis, { title })}<figcaption class="muted">${escapeXml(title)}</figcaption></figure>`;
      }),
      '</div>',
    );
  }
  if (s.unmeasured.length) out.push(`<p class="muted">No cost measured on this machine for: ${escapeXml(s.unmeasured.join(', '))} (<code>clip-bench cost --model DIR</code>).</p>`);
  out.push('</section>');
  return out;
}
