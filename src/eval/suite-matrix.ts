/**
 * Many models × one suite: each model's `SuiteTable` (suite.ts) side by side as a matrix, datasets as rows
 * and models as columns, with each model's mean and the paper's column when a reference is given. The
 * failures of every model (a model that did not load: dataset null) are kept with their one-line reasons.
 */
import type { MetricId } from './metric-ids.js';
import type { SuiteTable } from './suite.js';

export interface ModelSuite {
  /** the model's name (its folder's name, or --name) */
  model: string;
  dir: string;
  architecture: string | null;
  pretrained: string | null;
  /** null where the model failed before any dataset (it did not load) */
  table: SuiteTable | null;
}

export interface SuiteFailure {
  model: string;
  /** the suite entry's name; null where the model itself failed */
  dataset: string | null;
  reason: string;
}

export interface SuiteMatrix {
  suite: string;
  dataRoot: string;
  reference: string | null;
  /** the models that ran (a table each), in the order given; their column headers */
  columns: { model: string; header: string }[];
  rows: {
    name: string;
    metric: MetricId;
    /** percent per column, null where that model did not run the dataset */
    cells: (number | null)[];
    paper: number | null;
    verified: boolean | null;
  }[];
  mean: {
    /** each model's mean over the datasets it ran, and how many that is */
    cells: (number | null)[];
    datasets: number[];
    /** the paper's mean over all rows, where every row has a paper number */
    paper: number | null;
    paperUnverified: boolean;
    /** datasets of the suite */
    of: number;
  };
  /** the suite's groups (suite-groups.ts), each model's average: the mean, or "k of n" where some did not run */
  groups: { id: string; name: string; cells: string[] }[];
  failures: SuiteFailure[];
  /** datasets not found under the data root (the same for every model) */
  skipped: string[];
}

/** Headers longer than this are shortened to M1, M2, … with a legend. */
const HEADER_MAX = 20;

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Every model's failures: the model's own (dataset null) and its datasets'. */
export function suiteFailures(models: readonly (ModelSuite & { failure?: string; costFailure?: string })[]): SuiteFailure[] {
  return models.flatMap((m) => [
    ...(m.failure ? [{ model: m.model, dataset: null, reason: m.failure }] : []),
    ...(m.costFailure ? [{ model: m.model, dataset: null, reason: m.costFailure }] : []),
    ...(m.table?.failed ?? []).map((f) => ({ model: m.model, dataset: f.name, reason: f.reason })),
  ]);
}

/** The matrix of the models that ran; rows in suite order (the first table that ran a dataset places it). */
export function suiteMatrix(models: readonly (ModelSuite & { failure?: string; costFailure?: string })[], suite: { id: string; of: number }, dataRoot: string, reference: string | null): SuiteMatrix {
  const ran = models.filter((m): m is ModelSuite & { table: SuiteTable } => m.table !== null);
  const names: string[] = [];
  for (const m of ran) for (const r of m.table.rows) if (!names.includes(r.name)) names.push(r.name);
  const rowOf = (m: { table: SuiteTable }, name: string) => m.table.rows.find((r) => r.name === name);
  const rows = names.map((name) => {
    const first = ran.map((m) => rowOf(m, name)).find((r) => r !== undefined)!;
    return { name, metric: first.metric, cells: ran.map((m) => rowOf(m, name)?.ours ?? null), paper: first.paper, verified: first.verified };
  });
  const withPaper = rows.length > 0 && rows.every((r) => r.paper !== null);
  const short = ran.some((m) => m.model.length > HEADER_MAX);
  return {
    suite: suite.id,
    dataRoot,
    reference,
    columns: ran.map((m, i) => ({ model: m.model, header: short ? `M${i + 1}` : m.model })),
    rows,
    mean: {
      cells: ran.map((m) => m.table.mean.ours),
      datasets: ran.map((m) => m.table.mean.datasets),
      paper: withPaper ? mean(rows.map((r) => r.paper!)) : null,
      paperUnverified: withPaper && rows.some((r) => r.verified === false),
      of: suite.of,
    },
    groups: (ran[0]?.table.groups ?? []).map((g) => ({ id: g.id, name: g.name, cells: ran.map((m) => m.table.groups.find((x) => x.id === g.id)?.text ?? '—') })),
    failures: suiteFailures(models),
    skipped: ran[0]?.table.skipped.map((s) => s.name) ?? [],
  };
}

/** The matrix as Markdown: a legend where headers are shortened, each mean with its dataset count where it differs, then failures and skips. */
export function formatSuiteMatrix(x: SuiteMatrix): string {
  const f2 = (v: number | null) => (v === null ? '—' : v.toFixed(2));
  const ref = x.reference;
  const head = ['dataset', 'metric', ...x.columns.map((c) => c.header), ...(ref ? [`paper ${ref}`] : [])];
  const lines = [`| ${head.join(' | ')} |`, `|---|---|${head.slice(2).map(() => '---:').join('|')}|`];
  for (const r of x.rows) {
    const paper = ref ? [r.paper === null ? '—' : `${r.paper.toFixed(1)}${r.verified ? '' : '*'}`] : [];
    lines.push(`| ${[r.name, r.metric, ...r.cells.map(f2), ...paper].join(' | ')} |`);
  }
  const n = x.rows.length;
  const meanCells = x.mean.cells.map((v, i) => (v === null ? '—' : x.mean.datasets[i] === n ? f2(v) : `${f2(v)} (${x.mean.datasets[i]})`));
  const paperMean = ref ? [x.mean.paper === null ? '—' : `${x.mean.paper.toFixed(2)}${x.mean.paperUnverified ? '*' : ''}`] : [];
  lines.push(`| ${[`mean (${n} of ${x.mean.of})`, '', ...meanCells, ...paperMean].join(' | ')} |`);
  for (const g of x.groups) lines.push(`| ${[`group: ${g.name}`, '', ...g.cells, ...(ref ? [''] : [])].join(' | ')} |`);
  const out = [`suite ${x.suite}: ${x.columns.length} models × ${n} of ${x.mean.of} datasets under ${x.dataRoot}`, ''];
  if (x.columns.some((c) => c.header !== c.model)) out.push(...x.columns.map((c) => `  ${c.header} = ${c.model}`), '');
  out.push(...lines, '');
  out.push(
    x.mean.datasets.every((d) => d === n)
      ? `each mean is over the ${n} datasets that ran${n === x.mean.of ? ' (all of the suite)' : `, not the suite's ${x.mean.of}`}.`
      : `each mean is over the datasets that model ran; "(k)" marks a mean over k of the ${n} rows, not comparable with the others.`,
  );
  if (ref && x.rows.some((r) => r.verified === false)) out.push('* unverified paper cell: a recalled value still to be checked against the paper.');
  if (x.failures.length) out.push('', `failed (${x.failures.length}):`, ...x.failures.map((f) => `  ${f.model}${f.dataset === null ? '' : ` × ${f.dataset}`}: ${f.reason}`));
  if (x.skipped.length) out.push('', `skipped, not found under the data root (${x.skipped.length}): ${x.skipped.join(', ')}`);
  return out.join('\n');
}
