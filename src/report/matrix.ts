/**
 * The report's model × dataset matrix as a reader sees it, before any markup: one row per dataset column
 * of the accuracy table (short label, full name), one column per model, and per cell our headline value,
 * n and, where a reference is given, its number, source and Δ — coloured on a diverging scale only where
 * the reference is comparable. A reference is generic ({@link CellReference}): today the paper's Table 11
 * (`--reference`); published open_clip / CLIP_benchmark rows plug into the same slot. Pure.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.js';
import type { AccuracyTable, ReferenceTable, TableCell, TableRow } from './accuracy-table.js';
import type { PublishedSection } from './published-section.js';

/** One borrowed number beside one of our cells. */
export interface CellReference {
  /** percent, in the cell's headline metric */
  value: number;
  /** where it comes from, e.g. "paper Table 11, ViT-B/32" */
  source: string;
  /** the protocol note a reader needs (an unverified paper cell, another split) */
  note?: string;
  /** what the legend says of a whole family of such references (e.g. one published file's rows); default `source` */
  legend?: string;
  /** false: a different protocol, shown beside ours but never subtracted */
  comparable: boolean;
}

/** [table row][table column]: the reference of each cell, null for none. */
export type CellReferences = (CellReference | null)[][];

interface ShortLabels {
  labels: Record<string, { short: string; name: string }>;
}
let labels: ShortLabels['labels'] | undefined;

/** configs/datasets/short-labels.json: dataset id → the matrix's short label and the legend's full name. */
export function shortLabels(): ShortLabels['labels'] {
  labels ??= (JSON.parse(readFileSync(path.join(packageRoot, 'configs', 'datasets', 'short-labels.json'), 'utf8')) as ShortLabels).labels;
  return labels;
}

/**
 * A column's short label: its dataset's short label in place of the dataset id at the start of the column
 * label, so "cifar10 / single" reads "C10 / single"; an ImageFolder keeps its root's name.
 * @example shortColumnLabel('cifar10 / single', 'cifar10') // → 'C10 / single'
 */
export function shortColumnLabel(column: string, dataset: string): string {
  const s = shortLabels()[dataset];
  if (!s || !column.startsWith(dataset) || dataset === 'imagefolder') return column;
  return s.short + column.slice(dataset.length);
}

/** The paper's numbers (`--reference`) as generic references: source "paper Table 11, MODEL", unverified cells noted. */
export function paperReferences(t: AccuracyTable, ref: ReferenceTable | undefined): CellReferences {
  return t.rows.map((_, i) =>
    t.columns.map((_, j) => {
      const x = ref?.cells[i][j];
      if (!x || x.paper === null) return null;
      return { value: x.paper, source: `paper Table 11, ${ref!.model}`, ...(x.verified ? {} : { note: 'unverified: not yet cross-checked against a second source' }), comparable: true };
    }),
  );
}

/**
 * A published result table's numbers (`--reference-file`) as generic references, each model beside its own row
 * (or the one `--reference openclip:KEY` row): a cell the section does not subtract (another protocol, another
 * metric) is shown, never coloured.
 */
export function publishedReferences(t: AccuracyTable, s: PublishedSection): CellReferences {
  return t.rows.map((_, i) =>
    t.columns.map((column) => {
      const c = s.rows[i]?.cells.find((x) => x.label === column);
      if (!c || c.published.value === null) return null;
      const note = [c.published.note, c.why ? `not subtracted: ${c.why}` : null].filter(Boolean).join('; ');
      const rows = s.fixedKey ? `its row ${s.fixedKey} beside every model` : "each model beside its own row (ARCH__tag → ARCH/tag)";
      const legend = `${s.fileName}, ${rows}; ${c.published.protocol}`;
      return { value: c.published.value, source: c.published.source, legend, ...(note ? { note } : {}), comparable: c.delta !== null };
    }),
  );
}

export interface MatrixCell {
  cell: TableCell;
  /** percent */
  ours: number | null;
  reference: CellReference | null;
  /** ours − reference, points; null without a comparable reference */
  delta: number | null;
  /** |delta| beyond the tolerance */
  flagged: boolean;
}

export interface MatrixModel {
  row: TableRow;
  /** the model's name (and variant); its fingerprint only where two columns would read the same */
  label: string;
}

export interface MatrixView {
  models: MatrixModel[];
  /** one per accuracy-table column, in the labels file's order (Table 11's) */
  datasets: { column: string; dataset: string; short: string; name: string }[];
  /** [dataset row][model column] */
  cells: (MatrixCell | null)[][];
  /** the colour scale's half-width in points: Δ of ±scale and beyond are full colour */
  scale: number;
  tolerance: number;
}

/** Points of Δ the colour saturates at: the largest |Δ| rounded up to a whole point, between 1 and 10. */
export function deltaScale(deltas: readonly number[]): number {
  const m = Math.max(0, ...deltas.map(Math.abs));
  return Math.min(10, Math.max(1, Math.ceil(m - 1e-9)));
}

const WHITE = [255, 255, 255];
/** ColorBrewer RdBu's ends short of its darkest, so dark text stays readable: blue above the reference, red below. */
export const DELTA_COLOURS = { above: [67, 147, 195], below: [214, 96, 77] } as const;

/**
 * The background of a Δ cell: white at 0, blue for ours above the reference, red below, linear in |Δ| up to
 * ±scale points (symmetric).
 * @example deltaColour(-2, 4) // → 'rgb(235, 176, 166)'
 */
export function deltaColour(delta: number, scale: number): string {
  const t = Math.min(1, Math.abs(delta) / scale);
  const end = delta >= 0 ? DELTA_COLOURS.above : DELTA_COLOURS.below;
  const c = WHITE.map((w, k) => Math.round(w + t * (end[k] - w)));
  return `rgb(${c.join(', ')})`;
}

const modelName = (r: TableRow) => `${r.model}${r.variant && r.variant !== 'fp32' ? ` ${r.variant}` : ''}`;

/** The matrix of `t` with `refs` beside its cells; Δ beyond `tolerance` points is flagged. */
export function matrixView(t: AccuracyTable, refs: CellReferences, tolerance: number): MatrixView {
  const names = t.rows.map(modelName);
  const models = t.rows.map((row, i) => ({ row, label: names.filter((x) => x === names[i]).length > 1 ? `${names[i]} (${row.fingerprint.slice(0, 8)})` : names[i] }));
  // rows in the labels file's order (Table 11's, then the rest), the table's own order within a dataset
  const order = Object.keys(shortLabels());
  const rank = (j: number) => (order.includes(t.columnDatasets[j]) ? order.indexOf(t.columnDatasets[j]) : order.length);
  const columnOrder = t.columns.map((_, j) => j).sort((a, b) => rank(a) - rank(b) || a - b);
  const datasets = columnOrder.map((j) => {
    const column = t.columns[j];
    const dataset = t.columnDatasets[j];
    return { column, dataset, short: shortColumnLabel(column, dataset), name: shortLabels()[dataset]?.name ?? dataset };
  });
  const cells = columnOrder.map((j) =>
    t.rows.map((row, i): MatrixCell | null => {
      const cell = row.cells[j];
      if (!cell) return null;
      const ours = cell.headlineValue === null ? null : 100 * cell.headlineValue;
      const reference = refs[i]?.[j] ?? null;
      // rounded to 1e-9 points, as referenceCell does: 92.3 − 91.3 is not beyond a tolerance of 1
      const delta = ours !== null && reference?.comparable ? Math.round((ours - reference.value) * 1e9) / 1e9 : null;
      return { cell, ours, reference, delta, flagged: delta !== null && Math.abs(delta) > tolerance };
    }),
  );
  const scale = deltaScale(cells.flat().flatMap((c) => (c?.delta === null || !c ? [] : [c.delta])));
  return { models, datasets, cells, scale, tolerance };
}
