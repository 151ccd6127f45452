/**
 * SVG plots for the HTML report, made without a browser: d3-scale maps data to pixels, d3-shape draws
 * the lines. Each plot is a layout function (pure geometry, tested) and a renderer that turns it into
 * one SVG string with explicit width, height and viewBox and a <title> for screen readers.
 */
import { max } from 'd3-array';
import { scaleBand, scaleLinear, type ScaleLinear } from 'd3-scale';
import { line } from 'd3-shape';
import { signed } from './accuracy-table.js';
import type { CalibrationBin } from './stats.js';

/** Text and attribute values for XML/HTML. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Rough width of a label at the plots' 12 px sans-serif (no browser to measure with): 7 px per character. */
export const CHAR_WIDTH = 7;
/** The left margin that fits the longest label, between 60 and 300 px; longer labels are shortened with an ellipsis. */
export function labelMargin(labels: readonly string[]): number {
  return Math.min(300, Math.max(60, 12 + CHAR_WIDTH * (max(labels, (l) => l.length) ?? 0)));
}
function fitLabel(label: string, margin: number): string {
  const chars = Math.floor((margin - 12) / CHAR_WIDTH);
  return label.length <= chars ? label : `${label.slice(0, Math.max(1, chars - 1))}…`;
}
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12"';
export const COLOURS = { ours: '#3b6fb6', flagged: '#c8553d', paper: '#222', grid: '#e3e3e3', axis: '#666', gain: '#2e8b57', loss: '#c8553d', gap: '#f2a48f' };

export interface Margin {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

/** The SVG element; its first-child <title> is the accessible name (SVG-AAM), so no ids to keep unique on a page. */
export function svg(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" ${FONT}>`,
    `<title>${escapeXml(title)}</title>`,
    ...body,
    '</svg>',
  ].join('\n');
}

/** An axis's label: class "axis-label", so a reader (and the browser test) finds what each axis measures; `vertical` turns it for a y axis. */
export function axisLabel(x: number, y: number, text: string, vertical = false): string {
  return vertical
    ? `<text class="axis-label" transform="translate(${x} ${y}) rotate(-90)" text-anchor="middle">${escapeXml(text)}</text>`
    : `<text class="axis-label" x="${x}" y="${y}" text-anchor="middle">${escapeXml(text)}</text>`;
}

function xAxis(x: ScaleLinear<number, number>, y0: number, y1: number, ticks: number, format: (v: number) => string): string[] {
  return x.ticks(ticks).flatMap((t) => [
    `<line x1="${r2(x(t))}" x2="${r2(x(t))}" y1="${r2(y0)}" y2="${r2(y1)}" stroke="${COLOURS.grid}"/>`,
    `<text x="${r2(x(t))}" y="${r2(y1 + 14)}" text-anchor="middle" fill="${COLOURS.axis}">${escapeXml(format(t))}</text>`,
  ]);
}

// ---------------------------------------------------------------- ours vs the paper

export interface OursVsPaperPoint {
  label: string;
  /** percent */
  ours: number;
  /** percent; null where the paper has no number (or no reference was asked for) */
  paper: number | null;
  verified: boolean | null;
  /** |ours − paper| beyond the tolerance */
  flagged: boolean;
}

export interface OursVsPaperLayout {
  width: number;
  height: number;
  margin: Margin;
  x: ScaleLinear<number, number>;
  rows: { point: OursVsPaperPoint; y: number; band: number; barWidth: number; paperX: number | null }[];
}

/** One horizontal bar per dataset on a 0–100 % axis, the paper's number as a vertical mark across it. */
export function oursVsPaperLayout(points: readonly OursVsPaperPoint[], opts: { width?: number; rowHeight?: number; margin?: Partial<Margin> } = {}): OursVsPaperLayout {
  const width = opts.width ?? 640;
  const rowHeight = opts.rowHeight ?? 24;
  const margin = { top: 28, right: 64, bottom: 44, left: labelMargin(points.map((p) => p.label)), ...opts.margin };
  const height = margin.top + margin.bottom + rowHeight * Math.max(1, points.length);
  const x = scaleLinear().domain([0, 100]).range([margin.left, width - margin.right]);
  const y = scaleBand<number>().domain(points.map((_, i) => i)).range([margin.top, height - margin.bottom]).paddingInner(0.25).paddingOuter(0.1);
  const clamp = (v: number) => Math.min(100, Math.max(0, v));
  return {
    width,
    height,
    margin,
    x,
    rows: points.map((point, i) => ({ point, y: y(i)!, band: y.bandwidth(), barWidth: x(clamp(point.ours)) - x(0), paperX: point.paper === null ? null : x(clamp(point.paper)) })),
  };
}

export function oursVsPaperPlot(points: readonly OursVsPaperPoint[], opts: { title?: string; width?: number } = {}): string {
  const L = oursVsPaperLayout(points, opts);
  const title = opts.title ?? 'Ours vs the paper, headline metric per dataset (%)';
  const body = [...xAxis(L.x, L.margin.top - 6, L.height - L.margin.bottom, 5, (v) => String(v))];
  for (const r of L.rows) {
    const mid = r.y + r.band / 2;
    const p = r.point;
    const tip = `${p.label}: ours ${p.ours.toFixed(2)}` + (p.paper === null ? '' : `, paper ${p.paper.toFixed(1)}${p.verified ? '' : ' (unverified)'}, Δ ${signed(p.ours - p.paper)}`);
    body.push(
      `<g><title>${escapeXml(tip)}</title>`,
      `<text x="${L.margin.left - 8}" y="${r2(mid)}" dy="0.35em" text-anchor="end">${escapeXml(fitLabel(p.label, L.margin.left))}</text>`,
      `<rect x="${r2(L.x(0))}" y="${r2(r.y)}" width="${r2(r.barWidth)}" height="${r2(r.band)}" fill="${p.flagged ? COLOURS.flagged : COLOURS.ours}"/>`,
      ...(r.paperX === null
        ? []
        : [`<line x1="${r2(r.paperX)}" x2="${r2(r.paperX)}" y1="${r2(r.y - 3)}" y2="${r2(r.y + r.band + 3)}" stroke="${COLOURS.paper}" stroke-width="2.5"${p.verified ? '' : ' stroke-dasharray="3 2"'}/>`]),
      `<text x="${r2(L.x(100) + 6)}" y="${r2(mid)}" dy="0.35em" fill="${COLOURS.axis}">${escapeXml(p.paper === null ? p.ours.toFixed(1) : signed(p.ours - p.paper, 1))}</text>`,
      '</g>',
    );
  }
  body.push(axisLabel(r2((L.x(0) + L.x(100)) / 2), L.height - 8, 'headline metric (%); right of the bars: ours, or Δ to the paper in points'));
  // legend: only the marks this plot uses
  const legendY = 14;
  let lx = L.margin.left;
  body.push('<g class="legend">', `<rect x="${lx}" y="${legendY - 9}" width="12" height="10" fill="${COLOURS.ours}"/><text x="${lx + 16}" y="${legendY}">ours</text>`);
  lx += 56;
  if (points.some((p) => p.flagged)) {
    body.push(`<rect x="${lx}" y="${legendY - 9}" width="12" height="10" fill="${COLOURS.flagged}"/><text x="${lx + 16}" y="${legendY}">beyond tolerance</text>`);
    lx += 134;
  }
  if (points.some((p) => p.paper !== null)) {
    const dashed = points.some((p) => p.paper !== null && !p.verified);
    body.push(`<line x1="${lx + 4}" x2="${lx + 4}" y1="${legendY - 10}" y2="${legendY + 2}" stroke="${COLOURS.paper}" stroke-width="2.5"/><text x="${lx + 10}" y="${legendY}">paper${dashed ? ' (dashed: unverified)' : ''}</text>`);
  }
  body.push('</g>');
  return svg(L.width, L.height, title, body);
}

// ---------------------------------------------------------------- per-class deltas of a comparison

export interface ClassDeltaPoint {
  label: string;
  /** accuracy(B) − accuracy(A), a fraction */
  delta: number;
  n: number;
}

export interface ClassDeltaLayout {
  width: number;
  height: number;
  margin: Margin;
  x: ScaleLinear<number, number>;
  rows: { point: ClassDeltaPoint; y: number; band: number; x0: number; x1: number }[];
}

/** Diverging bars around 0 on a symmetric axis in points: gains right, losses left. */
export function classDeltaLayout(points: readonly ClassDeltaPoint[], opts: { width?: number; rowHeight?: number; margin?: Partial<Margin> } = {}): ClassDeltaLayout {
  const width = opts.width ?? 640;
  const rowHeight = opts.rowHeight ?? 20;
  const margin = { top: 30, right: 24, bottom: 44, left: labelMargin(points.map((p) => p.label)), ...opts.margin };
  const height = margin.top + margin.bottom + rowHeight * Math.max(1, points.length);
  const m = Math.max(1, max(points, (p) => Math.abs(100 * p.delta)) ?? 0);
  const x = scaleLinear().domain([-m, m]).range([margin.left, width - margin.right]);
  const y = scaleBand<number>().domain(points.map((_, i) => i)).range([margin.top, height - margin.bottom]).paddingInner(0.2);
  return {
    width,
    height,
    margin,
    x,
    rows: points.map((point, i) => {
      const a = x(0);
      const b = x(100 * point.delta);
      return { point, y: y(i)!, band: y.bandwidth(), x0: Math.min(a, b), x1: Math.max(a, b) };
    }),
  };
}

export function classDeltaPlot(points: readonly ClassDeltaPoint[], opts: { title?: string; width?: number } = {}): string {
  const L = classDeltaLayout(points, opts);
  const title = opts.title ?? 'Per-class accuracy change (points)';
  const body = [...xAxis(L.x, L.margin.top, L.height - L.margin.bottom, 6, (v) => (v > 0 ? `+${v}` : String(v).replace(/^-/, '−')))];
  body.push(`<line x1="${r2(L.x(0))}" x2="${r2(L.x(0))}" y1="${L.margin.top}" y2="${L.height - L.margin.bottom}" stroke="${COLOURS.axis}"/>`);
  if (points.length === 0) body.push(`<text x="${r2(L.x(0))}" y="${L.margin.top + 14}" text-anchor="middle">no class changes accuracy</text>`);
  for (const r of L.rows) {
    const p = r.point;
    body.push(
      `<g><title>${escapeXml(`${p.label}: ${signed(100 * p.delta, 1)} points (n=${p.n})`)}</title>`,
      `<text x="${L.margin.left - 8}" y="${r2(r.y + r.band / 2)}" dy="0.35em" text-anchor="end">${escapeXml(fitLabel(p.label, L.margin.left))}</text>`,
      `<rect x="${r2(r.x0)}" y="${r2(r.y)}" width="${r2(Math.max(r.x1 - r.x0, 1))}" height="${r2(r.band)}" fill="${p.delta >= 0 ? COLOURS.gain : COLOURS.loss}"/>`,
      '</g>',
    );
  }
  body.push(
    axisLabel(r2((L.x.range()[0] + L.x.range()[1]) / 2), L.height - 8, 'change in top-1 accuracy (points)'),
  );
  // legend: only the marks this plot uses (none when no class changed)
  const marks = [
    ...(points.some((p) => p.delta >= 0) ? [{ fill: COLOURS.gain, text: 'B better than A' }] : []),
    ...(points.some((p) => p.delta < 0) ? [{ fill: COLOURS.loss, text: 'B worse than A' }] : []),
  ];
  if (marks.length) body.push('<g class="legend">', ...marks.map((m, i) => `<rect x="${L.margin.left + 130 * i}" y="6" width="12" height="10" fill="${m.fill}"/><text x="${L.margin.left + 130 * i + 16}" y="15">${m.text}</text>`), '</g>');
  return svg(L.width, L.height, title, body);
}

// ---------------------------------------------------------------- reliability diagram

export interface ReliabilityLayout {
  width: number;
  height: number;
  margin: Margin;
  x: ScaleLinear<number, number>;
  y: ScaleLinear<number, number>;
  /** one per non-empty bin: the accuracy bar and the gap to the mean confidence */
  bars: { bin: CalibrationBin; x: number; width: number; yAccuracy: number; yConfidence: number; y0: number }[];
  /** the diagonal, perfect calibration, as an SVG path */
  diagonal: string;
}

/** Accuracy per confidence bin against the diagonal; the gap between a bar's top and its mean confidence is what ECE averages. */
export function reliabilityLayout(bins: readonly CalibrationBin[], opts: { size?: number; margin?: Partial<Margin> } = {}): ReliabilityLayout {
  const size = opts.size ?? 340;
  const margin = { top: 30, right: 16, bottom: 58, left: 48, ...opts.margin };
  const width = size;
  const height = size;
  const x = scaleLinear().domain([0, 1]).range([margin.left, width - margin.right]);
  const y = scaleLinear().domain([0, 1]).range([height - margin.bottom, margin.top]);
  const diagonal = line<number>()
    .x((d) => x(d))
    .y((d) => y(d))([0, 1])!;
  return {
    width,
    height,
    margin,
    x,
    y,
    diagonal,
    bars: bins.filter((b) => b.count > 0).map((bin) => ({ bin, x: x(bin.lo), width: x(bin.hi) - x(bin.lo), yAccuracy: y(bin.accuracy), yConfidence: y(bin.confidence), y0: y(0) })),
  };
}

export function reliabilityDiagram(cal: { ece: number; bins: readonly CalibrationBin[]; n: number; approximate: boolean }, opts: { title?: string; size?: number } = {}): string {
  const L = reliabilityLayout(cal.bins, opts);
  const eceText = `ECE ${(100 * cal.ece).toFixed(2)}%`;
  const title = (opts.title ?? 'Reliability diagram: top-1 accuracy per softmax-confidence bin (logit scale 100)') + `, ${eceText} over ${cal.n} samples` + (cal.approximate ? ' (approximation: softmax over the top-5 logits only)' : '');
  const body: string[] = [];
  for (const t of L.x.ticks(5)) {
    body.push(
      `<line x1="${r2(L.x(t))}" x2="${r2(L.x(t))}" y1="${L.margin.top}" y2="${r2(L.y(0))}" stroke="${COLOURS.grid}"/>`,
      `<text x="${r2(L.x(t))}" y="${r2(L.y(0) + 14)}" text-anchor="middle" fill="${COLOURS.axis}">${t}</text>`,
      `<line x1="${L.margin.left}" x2="${r2(L.x(1))}" y1="${r2(L.y(t))}" y2="${r2(L.y(t))}" stroke="${COLOURS.grid}"/>`,
      `<text x="${L.margin.left - 6}" y="${r2(L.y(t))}" dy="0.35em" text-anchor="end" fill="${COLOURS.axis}">${t}</text>`,
    );
  }
  for (const b of L.bars) {
    const top = Math.min(b.yAccuracy, b.yConfidence);
    body.push(
      `<g><title>${escapeXml(`confidence (${b.bin.lo.toFixed(2)}, ${b.bin.hi.toFixed(2)}]: ${b.bin.count} samples, accuracy ${(100 * b.bin.accuracy).toFixed(1)}%, mean confidence ${(100 * b.bin.confidence).toFixed(1)}%`)}</title>`,
      `<rect x="${r2(b.x)}" y="${r2(b.yAccuracy)}" width="${r2(b.width)}" height="${r2(b.y0 - b.yAccuracy)}" fill="${COLOURS.ours}" stroke="#fff" stroke-width="0.5"/>`,
      `<rect x="${r2(b.x)}" y="${r2(top)}" width="${r2(b.width)}" height="${r2(Math.abs(b.yAccuracy - b.yConfidence))}" fill="${COLOURS.gap}" fill-opacity="0.6"/>`,
      '</g>',
    );
  }
  body.push(
    `<path d="${L.diagonal}" fill="none" stroke="${COLOURS.paper}" stroke-dasharray="4 3"/>`,
    `<text x="${L.margin.left}" y="${L.margin.top - 12}" font-weight="600">${escapeXml(eceText + (cal.approximate ? ' (approx., top-5 softmax)' : ''))}</text>`,
    axisLabel(r2((L.x(0) + L.x(1)) / 2), L.y(0) + 30, 'confidence'),
    axisLabel(12, r2((L.y(0) + L.y(1)) / 2), 'accuracy', true),
    '<g class="legend">',
    `<rect x="${L.margin.left}" y="${L.height - 16}" width="12" height="10" fill="${COLOURS.ours}"/><text x="${L.margin.left + 16}" y="${L.height - 7}">accuracy</text>`,
    `<rect x="${L.margin.left + 84}" y="${L.height - 16}" width="12" height="10" fill="${COLOURS.gap}" fill-opacity="0.6"/><text x="${L.margin.left + 100}" y="${L.height - 7}">gap</text>`,
    `<line x1="${L.margin.left + 140}" x2="${L.margin.left + 160}" y1="${L.height - 11}" y2="${L.height - 11}" stroke="${COLOURS.paper}" stroke-dasharray="4 3"/><text x="${L.margin.left + 164}" y="${L.height - 7}">perfect calibration</text>`,
    '</g>',
  );
  return svg(L.width, L.height, title, body);
}
