/**
 * Accuracy next to cost in the report: per dataset group, each model's headline accuracy beside what
 * `clip-bench cost` measured for it (one machine and execution provider, named), with the Pareto front
 * against latency and against peak memory marked. Models without a cost record on that machine are named,
 * not placed.
 */
import type { CostRecord } from '../store/cost.js';
import { csvField, fixed, suiteCells, type AccuracyTable } from './accuracy-table.js';
import { paretoFront } from './cost-pareto.js';

export interface CostPoint {
  model: string;
  variant: string;
  fingerprint: string;
  /** percent: the group's headline metric (the mean over its datasets for a group of several) */
  accuracy: number;
  latencyMs: number;
  peakRssMiB: number;
  imagesPerSecond: number;
  parameters: number;
  /** per image; null: unknown (dynamic shapes) */
  imageFlops: number | null;
  /** on the front of accuracy against latency per image at batch 1 */
  paretoLatency: boolean;
  /** on the front of accuracy against peak RSS */
  paretoMemory: boolean;
}

export interface CostGroup {
  /** a dataset column's label, or "mean" over the datasets every placed model has */
  group: string;
  datasets: string[];
  points: CostPoint[];
}

export interface CostSection {
  machine: string;
  executionProvider: string;
  groups: CostGroup[];
  /** table rows (model names) that have accuracy but no cost record on this machine and provider */
  unmeasured: string[];
}

const key = (fingerprint: string, variant: string) => `${fingerprint}\0${variant}`;

/** The (machine, provider) with the most cost records for the table's models; the newest record wins ties. */
function chooseMachine(table: AccuracyTable, costs: readonly CostRecord[]): { machine: string; executionProvider: string } | null {
  const rows = new Set(table.rows.map((r) => key(r.fingerprint, r.variant)));
  const counts = new Map<string, { n: number; newest: string; machine: string; executionProvider: string }>();
  for (const c of costs) {
    if (!rows.has(key(c.fingerprint, c.variant))) continue;
    const k = `${c.machine}\0${c.executionProvider}`;
    const e = counts.get(k) ?? { n: 0, newest: '', machine: c.machine, executionProvider: c.executionProvider };
    e.n++;
    if (c.measuredAt > e.newest) e.newest = c.measuredAt;
    counts.set(k, e);
  }
  const best = [...counts.values()].sort((a, b) => b.n - a.n || b.newest.localeCompare(a.newest))[0];
  return best ? { machine: best.machine, executionProvider: best.executionProvider } : null;
}

/** Marks both fronts on points given without them. */
function withFronts(points: Omit<CostPoint, 'paretoLatency' | 'paretoMemory'>[]): CostPoint[] {
  const lat = paretoFront(points.map((p) => ({ accuracy: p.accuracy, cost: p.latencyMs })));
  const mem = paretoFront(points.map((p) => ({ accuracy: p.accuracy, cost: p.peakRssMiB })));
  return points.map((p, i) => ({ ...p, paretoLatency: lat[i], paretoMemory: mem[i] }));
}

/** A named set of dataset ids whose mean is one accuracy axis (a suite's group). */
export interface DatasetGroup {
  name: string;
  datasets: string[];
}

/**
 * The cost section of a report, or null when no model of the table has a cost record: one plot per dataset group of
 * the suites where some measured model ran all of it, else one per column, and the mean over the common columns.
 */
export function buildCostSection(table: AccuracyTable, costs: readonly CostRecord[], datasetGroups: readonly DatasetGroup[] = []): CostSection | null {
  const chosen = chooseMachine(table, costs);
  if (!chosen) return null;
  const byModel = new Map<string, CostRecord>();
  for (const c of costs) if (c.machine === chosen.machine && c.executionProvider === chosen.executionProvider) byModel.set(key(c.fingerprint, c.variant), c);
  const measured = table.rows.filter((r) => byModel.has(key(r.fingerprint, r.variant)));
  const value = (cell: NonNullable<AccuracyTable['rows'][number]['cells'][number]>) => 100 * (cell.headlineValue ?? cell.top1);
  const point = (r: AccuracyTable['rows'][number], accuracy: number) => {
    const c = byModel.get(key(r.fingerprint, r.variant))!;
    return { model: r.model, variant: r.variant, fingerprint: r.fingerprint, accuracy, latencyMs: c.latencyMs, peakRssMiB: c.peakRssMiB, imagesPerSecond: c.imagesPerSecond, parameters: c.parameters, imageFlops: c.imageFlops };
  };
  // the suites' dataset groups (ImageNet, VTAB natural, …) where some measured model has every dataset of one;
  // otherwise each column on its own (a handful of datasets outside any suite)
  const byDataset = new Map(measured.map((r) => [r, new Map(suiteCells(table, r).map((c) => [c.dataset, 100 * c.cell.headlineValue!]))]));
  const suiteGroups: CostGroup[] = datasetGroups.flatMap((g) => {
    const points = measured.flatMap((r) => {
      const values = g.datasets.map((d) => byDataset.get(r)!.get(d));
      return values.every((v) => v !== undefined) ? [point(r, values.reduce((s, v) => s + v!, 0) / values.length)] : [];
    });
    return points.length ? [{ group: g.name, datasets: g.datasets, points: withFronts(points) }] : [];
  });
  const groups: CostGroup[] = suiteGroups.length
    ? suiteGroups
    : table.columns.map((col, i) => ({
        group: col,
        datasets: [col],
        points: withFronts(measured.flatMap((r) => (r.cells[i] && Number.isFinite(value(r.cells[i]!)) ? [point(r, value(r.cells[i]!))] : []))),
      }));
  // the mean over the columns every measured model has, when there are several such columns
  const common = table.columns.map((_, i) => i).filter((i) => measured.every((r) => r.cells[i] && Number.isFinite(value(r.cells[i]!))));
  const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));
  const commonDatasets = common.map((i) => table.columnDatasetLabels[i]);
  if (common.length > 1 && measured.length > 0 && !suiteGroups.some((g) => sameSet(g.datasets, commonDatasets))) {
    groups.unshift({
      group: 'mean',
      datasets: common.map((i) => table.columns[i]),
      points: withFronts(measured.map((r) => point(r, common.reduce((s, i) => s + value(r.cells[i]!), 0) / common.length))),
    });
  }
  return {
    ...chosen,
    groups: groups.filter((g) => g.points.length > 0),
    unmeasured: table.rows.filter((r) => !byModel.has(key(r.fingerprint, r.variant))).map((r) => r.model),
  };
}

export const formatFlops = (f: number | null) => (f === null ? 'unknown' : (f / 1e9).toFixed(2));
/** The Pareto column: which fronts a point is on. */
export function paretoLabel(p: CostPoint): string {
  const on = [p.paretoLatency ? 'latency' : '', p.paretoMemory ? 'memory' : ''].filter(Boolean);
  return on.length ? `★ ${on.join(', ')}` : '–';
}

export function costSectionMarkdown(s: CostSection | null): string[] {
  if (!s) return [];
  const lines = [
    '### Accuracy and cost',
    '',
    `Measured by \`clip-bench cost\` on ${s.machine} (${s.executionProvider}). Latency: one image at batch 1 (median); memory: peak RSS of an eval; GFLOP: 2 × multiply-adds of MatMul/Gemm/Conv; ★ marks the Pareto front (no other model is as accurate and cheaper).`,
    '',
  ];
  for (const g of s.groups) {
    lines.push(
      `#### ${g.group}${g.group === 'mean' ? ` (mean over ${g.datasets.join(', ')})` : ''}`,
      '',
      '| model | accuracy % | latency ms | peak RSS MiB | images/s | parameters M | GFLOP/image | Pareto |',
      '|---|---:|---:|---:|---:|---:|---:|---|',
      ...g.points.map((p) => `| ${p.model}${p.variant !== 'fp32' ? ` ${p.variant}` : ''} | ${fixed(p.accuracy, 2)} | ${fixed(p.latencyMs, 1)} | ${fixed(p.peakRssMiB, 0)} | ${fixed(p.imagesPerSecond, 1)} | ${fixed(p.parameters / 1e6, 2)} | ${formatFlops(p.imageFlops)} | ${paretoLabel(p)} |`),
      '',
    );
  }
  if (s.unmeasured.length) lines.push(`_No cost measured on this machine for: ${s.unmeasured.join(', ')} (\`clip-bench cost --model DIR\`)._`, '');
  return lines;
}

export function costSectionCsv(s: CostSection): string {
  const head = 'group,model,variant,fingerprint,accuracy,latency_ms,peak_rss_mib,images_per_second,parameters,image_flops,pareto_latency,pareto_memory,machine,execution_provider';
  const rows = s.groups.flatMap((g) =>
    g.points.map((p) =>
      [g.group, p.model, p.variant, p.fingerprint, p.accuracy.toFixed(4), p.latencyMs.toFixed(3), p.peakRssMiB.toFixed(1), p.imagesPerSecond.toFixed(3), String(p.parameters), p.imageFlops === null ? 'unknown' : String(p.imageFlops), String(p.paretoLatency), String(p.paretoMemory), s.machine, s.executionProvider]
        .map(csvField)
        .join(','),
    ),
  );
  return [head, ...rows].join('\n') + '\n';
}
