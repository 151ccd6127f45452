/**
 * The model × dataset accuracy table. A column is one setting — dataset and root (different roots are
 * different datasets), split, prompt set (by hash), preprocessing, failure rule — and each cell shows the
 * most complete finished run of its model in that setting (a whole split before a --limit or a shard, then
 * the most samples, then the latest), with its n. Pure: builds from run records and renders to Markdown,
 * CSV or JSON.
 */
import { createHash } from 'node:crypto';
import { mean } from 'd3-array';
import path from 'node:path';
import type { MetricId } from '../eval/metric-ids.js';
import type { RunRecord } from '../store/runs.js';
import type { PaperCell } from './paper.js';

export interface TableCell {
  runId: number;
  top1: number;
  /** null below five classes */
  top5: number | null;
  /** samples scored */
  n: number;
  nFailed: number;
  /** the run covers less than its whole split (--limit below the split's size, or one shard) */
  partial: boolean;
  /** --limit of the run, null for none */
  limit: number | null;
  /** "i/n" for one shard of the split */
  shard: string | null;
  /** samples in the whole split, where the run recorded it */
  splitSize: number | null;
  /** failed samples left out of n (--exclude-failures) rather than counted as wrong */
  failuresExcluded: boolean;
  /** the paper's metric for this dataset, and our value of it (null where it cannot be computed) */
  headline: MetricId;
  headlineValue: number | null;
  promptSet: string;
  /** templates in the prompt set (ensembles have many) */
  nTemplates: number | null;
  /** the language of the class names and templates (`--language`); null: the dataset's own */
  language: string | null;
}

export interface AccuracyTable {
  /** column label: dataset (and split / prompt set when they vary) */
  columns: string[];
  /** the dataset id of each column (its key in the paper's numbers) */
  columnDatasets: string[];
  /** the dataset of each column as the suite mean counts it (an ImageFolder is told apart by its root) */
  columnDatasetLabels: string[];
  /** row label: model name (and variant) with a short fingerprint */
  rows: TableRow[];
  /** the runs shown in the cells, with their provenance */
  runs: RunProvenance[];
}

export interface TableRow {
  model: string;
  variant: string;
  fingerprint: string;
  cells: (TableCell | null)[];
}

export interface RunProvenance {
  runId: number;
  model: string;
  fingerprint: string;
  variant: string;
  layout: string;
  dataset: string;
  root: string;
  split: string;
  promptSet: string;
  promptHash: string;
  /** the language of the text side (`--language`); null: the dataset's own */
  language: string | null;
  n: number;
  nFailed: number;
  /** how the images were resized and normalised (from the run's preprocessing config) */
  preprocessing: string;
  executionProvider: string;
  /** clip-bench, node, onnxruntime, sharp */
  versions: Record<string, string | null>;
  date: string;
  commit: string | null;
}

/** Generic adapters (any ImageFolder) are named by their root folder's name; the others by their id. */
function baseDatasetLabel(r: RunRecord): string {
  return r.dataset === 'imagefolder' ? `imagefolder:${path.basename(r.datasetRoot)}` : r.dataset;
}

/**
 * The dataset label of each root: the base label, and where several roots share it, the shortest tail of
 * each root's path that tells them apart ("imagefolder:val (a/val)", "imagefolder:val (b/val)").
 */
function datasetLabels(runs: readonly RunRecord[]): Map<string, string> {
  const rootsByBase = new Map<string, Set<string>>();
  const key = (r: RunRecord) => `${r.dataset}\u0000${r.datasetRoot}`;
  for (const r of runs) rootsByBase.set(baseDatasetLabel(r), (rootsByBase.get(baseDatasetLabel(r)) ?? new Set()).add(r.datasetRoot));
  const labels = new Map<string, string>();
  for (const r of runs) {
    const base = baseDatasetLabel(r);
    const roots = [...rootsByBase.get(base)!];
    if (roots.length === 1) {
      labels.set(key(r), base);
      continue;
    }
    const parts = roots.map((x) => x.split(/[\\/]+/).filter(Boolean));
    const tail = (p: string[], k: number) => p.slice(-k).join('/');
    let k = 1;
    while (k < Math.max(...parts.map((p) => p.length)) && new Set(parts.map((p) => tail(p, k))).size < roots.length) k++;
    labels.set(key(r), `${base} (${tail(r.datasetRoot.split(/[\\/]+/).filter(Boolean), k)})`);
  }
  return labels;
}

/** The language of a run's text side (`params.language`, from `--language`), or null for the dataset's own. */
export function runLanguage(r: RunRecord): string | null {
  return typeof r.params?.language === 'string' ? r.params.language : null;
}

const sha8 = (x: unknown) => createHash('sha256').update(JSON.stringify(x) ?? '').digest('hex').slice(0, 8);

/**
 * The settings that make two runs of one model and dataset root different results (besides the model):
 * each with a key (what it is) and a name (what a reader calls it). The report's columns and `compare`'s
 * pairing both use these.
 */
export const RUN_SETTINGS: readonly { id: 'split' | 'language' | 'prompts' | 'preprocessing' | 'failures'; key: (r: RunRecord) => string; name: (r: RunRecord) => string }[] = [
  { id: 'split', key: (r) => r.split, name: (r) => r.split },
  { id: 'language', key: (r) => runLanguage(r) ?? '', name: (r) => (runLanguage(r) === null ? "dataset's language" : `language ${runLanguage(r)}`) },
  { id: 'prompts', key: (r) => r.promptHash, name: (r) => r.promptSet },
  {
    id: 'preprocessing',
    key: (r) => sha8(r.params?.preprocess ?? null),
    name: (r) => (typeof r.params?.convention === 'string' ? `${r.params.convention} preprocessing` : describePreprocessing(r.params?.preprocess)),
  },
  { id: 'failures', key: (r) => String(r.params?.excludeFailures === true), name: (r) => (r.params?.excludeFailures === true ? 'failures excluded' : 'failures as wrong') },
];

/** One string per setting (dataset, root and every {@link RUN_SETTINGS} key): equal for runs whose results are comparable cell for cell. */
export function settingKey(r: RunRecord): string {
  return JSON.stringify([r.dataset, r.datasetRoot ?? null, ...RUN_SETTINGS.map((f) => f.key(r))]);
}

/** Whether a run covers less than its whole split: a shard, or a --limit below the split's size (for older runs: any --limit). */
export function isPartial(r: RunRecord): boolean {
  if (r.shard) return true;
  const limit = typeof r.params?.limit === 'number' ? r.params.limit : null;
  if (limit === null) return false;
  return typeof r.params.splitSize === 'number' ? limit < r.params.splitSize : true;
}

/** Which of two runs of one setting a cell shows: a whole split before a part, then more samples, then the later run. */
export function moreComplete(a: RunRecord, b: RunRecord): boolean {
  const rank = (r: RunRecord) => [isPartial(r) ? 0 : 1, r.n ?? 0, r.id];
  const [x, y] = [rank(a), rank(b)];
  const i = x.findIndex((v, j) => v !== y[j]);
  return i >= 0 && x[i] > y[i];
}

export function buildAccuracyTable(runs: readonly RunRecord[]): AccuracyTable {
  const finished = runs.filter((r) => r.status === 'finished' && r.top1 !== null);
  const labels = datasetLabels(finished);
  const datasetLabel = (r: RunRecord) => labels.get(`${r.dataset}\u0000${r.datasetRoot}`)!;
  const columnKey = settingKey;
  // A column names a setting field (split, prompt set, preprocessing, failure rule) only where its dataset has
  // columns that differ in it; two different values with one name get a short hash. A language is always named.
  const byDataset = new Map<string, RunRecord[]>();
  for (const r of finished) byDataset.set(datasetLabel(r), [...(byDataset.get(datasetLabel(r)) ?? []), r]);
  const colOf = (r: RunRecord) => {
    const group = byDataset.get(datasetLabel(r))!;
    const names = RUN_SETTINGS.flatMap((f) => {
      const keys = new Set(group.map(f.key));
      if (keys.size < 2 && !(f.id === 'language' && runLanguage(r) !== null)) return [];
      const clash = group.some((o) => f.name(o) === f.name(r) && f.key(o) !== f.key(r));
      return [clash ? `${f.name(r)} (${f.key(r).slice(0, 8)})` : f.name(r)];
    });
    return [datasetLabel(r), ...names].join(' / ');
  };
  const labelOfKey = new Map<string, string>();
  for (const r of finished) labelOfKey.set(columnKey(r), colOf(r));
  const keys = [...labelOfKey.keys()].sort((a, b) => labelOfKey.get(a)!.localeCompare(labelOfKey.get(b)!) || a.localeCompare(b));
  const columns = keys.map((k) => labelOfKey.get(k)!);
  const firstOf = (k: string) => finished.find((r) => columnKey(r) === k)!;
  const columnDatasets = keys.map((k) => firstOf(k).dataset);
  const columnDatasetLabels = keys.map((k) => datasetLabel(firstOf(k)));
  const byModel = new Map<string, { row: TableRow; shown: (RunRecord | null)[] }>();
  for (const r of finished) {
    const key = `${r.modelFingerprint}\u0000${r.modelVariant}`;
    if (!byModel.has(key)) byModel.set(key, { row: { model: r.modelName, variant: r.modelVariant, fingerprint: r.modelFingerprint, cells: keys.map(() => null) }, shown: keys.map(() => null) });
    const m = byModel.get(key)!;
    const c = keys.indexOf(columnKey(r));
    const prev = m.shown[c];
    if (!prev || moreComplete(r, prev)) {
      m.shown[c] = r;
      m.row.cells[c] = cellOf(r);
    }
  }
  const rows = [...byModel.values()].map((m) => m.row).sort((a, b) => a.model.localeCompare(b.model) || a.fingerprint.localeCompare(b.fingerprint) || a.variant.localeCompare(b.variant));
  const shown = new Set(rows.flatMap((r) => r.cells.flatMap((c) => (c ? [c.runId] : []))));
  const runsShown = finished.filter((r) => shown.has(r.id)).map(provenance);
  return { columns, columnDatasets, columnDatasetLabels, rows, runs: runsShown };
}

/** The run's value of its headline metric: from its metrics JSON, top-1 for runs that stored none. */
export function headlineOf(r: RunRecord): { headline: MetricId; value: number | null } {
  const headline = (r.params.headline as MetricId | undefined) ?? 'top1';
  const stored = r.metrics?.[headline] as { value?: number | null } | undefined;
  return { headline, value: stored && stored.value !== undefined ? stored.value : headline === 'top1' ? r.top1 : null };
}

function cellOf(r: RunRecord): TableCell {
  const { headline, value } = headlineOf(r);
  return {
    runId: r.id,
    top1: r.top1!,
    top5: r.top5!,
    n: r.n!,
    nFailed: r.nFailed ?? 0,
    partial: isPartial(r),
    limit: typeof r.params.limit === 'number' ? r.params.limit : null,
    shard: r.shard,
    splitSize: typeof r.params.splitSize === 'number' ? r.params.splitSize : null,
    failuresExcluded: r.params.excludeFailures === true,
    headline,
    headlineValue: value,
    promptSet: r.promptSet,
    nTemplates: typeof r.params.nTemplates === 'number' ? r.params.nTemplates : null,
    language: runLanguage(r),
  };
}

const NORMALISATIONS: Record<string, [number[], number[]]> = {
  'CLIP mean/std': [
    [0.48145466, 0.4578275, 0.40821073],
    [0.26862954, 0.26130258, 0.27577711],
  ],
  'ImageNet mean/std': [
    [0.485, 0.456, 0.406],
    [0.229, 0.224, 0.225],
  ],
};

/**
 * One line for a preprocessing config: "bicubic 224 shortest, CLIP mean/std", with the numbers where the
 * normalisation is not a known one.
 * @example describePreprocessing({ size: 224, interpolation: 'bicubic', resizeMode: 'shortest', mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] }) // → 'bicubic 224 shortest, CLIP mean/std'
 */
export function describePreprocessing(cfg: unknown): string {
  if (!cfg || typeof cfg !== 'object') return 'unknown';
  const c = cfg as Record<string, unknown>;
  const parts = [c.interpolation, c.size, c.resizeMode ?? c.resize_mode, c.convention].filter((x) => x !== undefined && x !== null).map(String);
  let norm = '';
  if (Array.isArray(c.mean) && Array.isArray(c.std)) {
    const same = (a: unknown[], b: number[]) => a.length === b.length && a.every((x, i) => Math.abs(Number(x) - b[i]) < 1e-6);
    const known = Object.entries(NORMALISATIONS).find(([, [m, s]]) => same(c.mean as unknown[], m) && same(c.std as unknown[], s));
    norm = known ? known[0] : `mean [${c.mean.map((x) => Number(x).toFixed(3)).join(', ')}] std [${c.std.map((x) => Number(x).toFixed(3)).join(', ')}]`;
  }
  const scale = typeof c.valueScale === 'number' ? `pixel values × ${c.valueScale}` : ''; // HF do_rescale: false / another rescale_factor
  return [parts.join(' '), norm, scale].filter(Boolean).join(', ') || JSON.stringify(cfg);
}

export function provenance(r: RunRecord): RunProvenance {
  const env = r.environment;
  const str = (x: unknown) => (typeof x === 'string' ? x : null);
  return {
    runId: r.id,
    model: r.modelName,
    fingerprint: r.modelFingerprint,
    variant: r.modelVariant,
    layout: r.modelLayout,
    dataset: r.dataset,
    root: r.datasetRoot,
    split: r.split,
    promptSet: r.promptSet,
    promptHash: r.promptHash,
    language: runLanguage(r),
    n: r.n!,
    nFailed: r.nFailed ?? 0,
    preprocessing: describePreprocessing(r.params.preprocess),
    executionProvider: r.executionProvider,
    versions: { clipBench: str(env.clipBench), node: str(env.node), onnxruntime: str(env.onnxruntime), sharp: str(env.sharp) },
    date: r.finishedAt ?? r.createdAt,
    commit: str(env.gitCommit),
  };
}

// ---------------------------------------------------------------- the paper's numbers beside ours

export interface ReferenceCell {
  /** ours, percent */
  ours: number;
  /** the paper's, percent; null where it has no number for this dataset */
  paper: number | null;
  verified: boolean | null;
  /** ours − paper, points */
  delta: number | null;
  /** |delta| beyond the tolerance */
  flagged: boolean;
}

/**
 * Our headline value beside the paper's (both in percent) with the delta, flagged when it is beyond the
 * tolerance (strictly: a delta of exactly the tolerance is within it).
 * @example referenceCell(0.633, { value: 63.2, verified: true }, 1) // → { ours: 63.3, paper: 63.2, delta: ≈0.1, flagged: false, verified: true }
 */
export function referenceCell(ours: number, paper: PaperCell | null, tolerance: number): ReferenceCell {
  const pct = 100 * ours;
  if (!paper) return { ours: pct, paper: null, verified: null, delta: null, flagged: false };
  // rounded to 1e-9 points: 92.3 − 91.3 is 1.0000000000000142 in doubles, which is not beyond a tolerance of 1
  const delta = Math.round((pct - paper.value) * 1e9) / 1e9;
  return { ours: pct, paper: paper.value, verified: paper.verified, delta, flagged: Math.abs(delta) > tolerance };
}

export interface ReferenceTable {
  model: string;
  tolerance: number;
  /** [row][column], null where we have no cell or no headline value */
  cells: (ReferenceCell | null)[][];
}

/** The paper's number for every cell of the table; `lookup(dataset)` gives the reference model's cell. */
export function referenceTable(t: AccuracyTable, model: string, lookup: (dataset: string) => PaperCell | null, tolerance: number): ReferenceTable {
  return {
    model,
    tolerance,
    // the paper's numbers are for the datasets' own (English) names and templates: none beside a run in another language
    cells: t.rows.map((r) => r.cells.map((c, i) => (c && c.headlineValue !== null ? referenceCell(c.headlineValue, c.language === null ? lookup(t.columnDatasets[i]) : null, tolerance) : null))),
  };
}

// ---------------------------------------------------------------- suite mean

export interface SuiteMean {
  /** percent: the plain mean of the headline metrics, each dataset once, as the paper averages its 27 */
  mean: number | null;
  datasets: string[];
  /** the paper's mean over the same datasets, where it has a number for each of them */
  paper?: number | null;
}

/**
 * Which of a model's cells stand for each dataset in the suite mean: one per dataset, the paper's setup
 * where there are several (the dataset's own language before another; a whole split before a part; its own
 * prompt set, named like the dataset; else the most templates; else the latest run).
 */
export function suiteCells(t: AccuracyTable, row: TableRow): { dataset: string; cell: TableCell }[] {
  const best = new Map<string, TableCell>();
  row.cells.forEach((c, i) => {
    if (!c || c.headlineValue === null) return;
    const d = t.columnDatasetLabels[i];
    const prev = best.get(d);
    const rank = (x: TableCell) => [x.language === null ? 1 : 0, x.partial ? 0 : 1, x.promptSet === t.columnDatasets[i] ? 1 : 0, x.nTemplates ?? 0, x.runId];
    const better = (a: number[], b: number[]) => a.map((v, k) => v - b[k]).find((d) => d !== 0) ?? 0;
    if (!prev || better(rank(c), rank(prev)) > 0) best.set(d, c);
  });
  return [...best.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([dataset, cell]) => ({ dataset, cell }));
}

/**
 * The suite mean of one row, and with a lookup the paper's over the same datasets (null when the paper
 * lacks any of them).
 * @example suiteMean(table, table.rows[0]) // → { mean: 71.25, datasets: ['cifar10', 'food101'] }
 */
export function suiteMean(t: AccuracyTable, row: TableRow, lookup?: (dataset: string) => PaperCell | null): SuiteMean {
  const cells = suiteCells(t, row);
  const datasets = cells.map((c) => c.dataset);
  const ours = cells.length ? 100 * mean(cells, (c) => c.cell.headlineValue!)! : null;
  if (!lookup) return { mean: ours, datasets };
  const paper = datasets.map((label) => lookup(t.columnDatasets[t.columnDatasetLabels.indexOf(label)]));
  return { mean: ours, datasets, paper: paper.length && paper.every((p) => p) ? mean(paper, (p) => p!.value)! : null };
}

const pct = (x: number) => (100 * x).toFixed(2);
/** "name (fingerprint)", with the variant where it is not the full-precision one */
export const rowLabel = (r: Pick<TableRow, 'model' | 'variant' | 'fingerprint'>) => `${r.model}${r.variant && r.variant !== 'fp32' ? ` ${r.variant}` : ''} (${r.fingerprint.slice(0, 8)})`;
const label = rowLabel;
/** The cell's metric as text: top-1 / top-5 where the headline is top-1, else the headline value with its name. */
export function cellValueText(c: TableCell): string {
  if (c.headline === 'top1') return `${pct(c.top1)} / ${c.top5 === null ? 'n/a' : pct(c.top5)}`;
  return c.headlineValue === null ? `n/a (${c.headline})` : `${pct(c.headlineValue)} (${c.headline})`;
}

/** How many samples the cell's run scored, and of what, when that is less than the whole split: "n=50 of 300, --limit 50". */
export function cellSampleText(c: TableCell): string {
  if (!c.partial) return `n=${c.n}`;
  const of = c.splitSize !== null ? ` of ${c.splitSize}` : '';
  const why = c.shard ? `shard ${c.shard}` : `--limit ${c.limit}`;
  return `n=${c.n}${of}, partial: ${why}`;
}

/** The cell as text: its metric and its n, e.g. "90.00 / 98.00 (n=10000)". */
export function cellText(c: TableCell): string {
  return `${cellValueText(c)} (${cellSampleText(c)})`;
}
/** A difference with its sign, the minus U+2212 (never a hyphen): signed(-1.3) → '−1.30', signed(0.25, 1) → '+0.3'. */
export const signed = (x: number, digits = 2) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
/** A number that may be negative, with the minus U+2212 in place of toFixed's hyphen: fixed(-0.5, 2) → '−0.50'. */
export const fixed = (x: number, digits: number) => x.toFixed(digits).replace(/^-/, '−');

export interface TableExtras {
  /** the paper's numbers beside ours (--reference) */
  reference?: ReferenceTable;
  /** one per row, in row order */
  suite?: SuiteMean[];
}

/** Delta text with the marks a reader needs: beyond tolerance, unverified paper cell. */
export function referenceText(r: ReferenceCell): string {
  if (r.paper === null || r.delta === null) return `${r.ours.toFixed(2)} (paper: no number)`;
  const marks = [r.flagged ? '⚠' : '', r.verified ? '' : '(unverified)'].filter(Boolean).join(' ');
  return `${r.ours.toFixed(2)} vs ${r.paper.toFixed(1)}: Δ ${signed(r.delta)}${marks ? ` ${marks}` : ''}`;
}

function suiteLines(t: AccuracyTable, extras: TableExtras): string[] {
  if (!extras.suite) return [];
  const ref = extras.reference;
  return [
    `Suite mean (the paper's way: the plain mean of each dataset's headline metric, every dataset once)${ref ? `, beside ${ref.model}'s over the same datasets` : ''}:`,
    '',
    ...t.rows.map((r, i) => {
      const s = extras.suite![i];
      if (s.mean === null) return `- ${label(r)}: no dataset with a headline value`;
      const paper = ref ? (s.paper === null || s.paper === undefined ? '; paper: not every dataset has a number' : `; paper ${s.paper.toFixed(2)}, Δ ${signed(s.mean - s.paper)}`) : '';
      return `- ${label(r)}: ${s.mean.toFixed(2)} over ${s.datasets.length} dataset${s.datasets.length === 1 ? '' : 's'} (${s.datasets.join(', ')})${paper}`;
    }),
    '',
  ];
}

function referenceLines(t: AccuracyTable, ref: ReferenceTable | undefined): string[] {
  if (!ref) return [];
  let without = 0;
  const rows = t.rows.flatMap((r, i) =>
    r.cells.flatMap((c, j) => {
      const x = ref.cells[i][j];
      if (!c || !x) return [];
      if (x.paper === null) {
        without++;
        return [];
      }
      const delta = x.delta === null ? '–' : `${signed(x.delta)}${x.flagged ? ' ⚠' : ''}`;
      const paper = x.paper === null ? '–' : `${x.paper.toFixed(1)}${x.verified ? '' : ' (unverified)'}`;
      return [`| ${label(r)} | ${t.columns[j]} | ${c.headline} | ${x.ours.toFixed(2)} | ${paper} | ${delta} |`];
    }),
  );
  return [
    `### Against the paper: ${ref.model} (Table 11), tolerance ±${ref.tolerance} points`,
    '',
    ...(rows.length ? ['| model | dataset | metric | ours | paper | Δ points |', '|---|---|---|---:|---:|---:|', ...rows, ''] : []),
    ...(without ? [`${without} result${without === 1 ? ' is' : 's are'} on datasets the paper has no ${ref.model} number for.`, ''] : []),
    `⚠ marks a delta beyond ±${ref.tolerance} points; "(unverified)" marks a paper cell not yet cross-checked against a second source.`,
    '',
  ];
}

/** Just the model × dataset matrix, as Markdown table lines. */
export function matrixMarkdown(t: AccuracyTable): string[] {
  const head = `| model | ${t.columns.join(' | ')} |`;
  const sep = `|---|${t.columns.map(() => '---:').join('|')}|`;
  return [head, sep, ...t.rows.map((r) => `| ${label(r)} | ${r.cells.map((c) => (c ? cellText(c) : '–')).join(' | ')} |`)];
}

export function accuracyTableMarkdown(t: AccuracyTable, extras: TableExtras = {}): string {
  if (t.columns.length === 0) return '_No finished runs yet: run `clip-bench eval` first._\n';
  const notes = t.rows.flatMap((r) =>
    r.cells
      .filter((c): c is TableCell => !!c && c.nFailed > 0)
      .map((c) => (c.failuresExcluded ? `- run ${c.runId}: ${c.nFailed} samples failed to decode and are excluded (scored over the ${c.n} decoded)` : `- run ${c.runId}: ${c.nFailed} of ${c.n} samples failed to decode and count as wrong`)),
  );
  const runs = t.runs.map(
    (r) =>
      `| ${r.runId} | ${r.model} | \`${r.fingerprint.slice(0, 12)}\` | ${r.variant} | ${r.dataset} | ${r.root} | ${r.split} | ${r.promptSet}${r.language ? ` [${r.language}]` : ''} (\`${r.promptHash.slice(0, 8)}\`) | ${r.n} | ${r.nFailed} | ${r.preprocessing} | ${r.executionProvider} | ${versionsText(r.versions)} | ${r.commit ? r.commit.slice(0, 8) : '–'} | ${r.date.slice(0, 19)} |`,
  );
  return [
    "Zero-shot results (%): each dataset's headline metric (the paper's); where that is top-1, top-1 / top-5; n = samples scored. Each cell is the most complete finished run of its setting (model, dataset and root, split, prompt set, preprocessing): a whole split before a --limit or a shard, then the most samples, then the latest.",
    '',
    ...matrixMarkdown(t),
    '',
    ...(notes.length ? [...notes, ''] : []),
    ...suiteLines(t, extras),
    ...referenceLines(t, extras.reference),
    '### Runs',
    '',
    '| run | model | fingerprint | variant | dataset | root | split | prompts | n | failed | preprocessing | provider | versions | clip-bench commit | finished (UTC) |',
    '|---:|---|---|---|---|---|---|---|---:|---:|---|---|---|---|---|',
    ...runs,
    '',
  ].join('\n');
}

const VERSION_NAMES: Record<string, string> = { clipBench: 'clip-bench' };

/** "clip-bench 0.1.0, node v20.19.0, onnxruntime 1.30.0, sharp 0.35.5" */
export function versionsText(v: Record<string, string | null>): string {
  return Object.entries(v)
    .filter(([, x]) => x)
    .map(([k, x]) => `${VERSION_NAMES[k] ?? k} ${x}`)
    .join(', ');
}

export function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Long format: one line per cell, so it loads into any spreadsheet or dataframe. The headline columns
 * (metric, value) are added when some dataset's headline is not top-1 or with a reference, which also adds
 * the paper's number, whether it is verified, the delta and whether it is beyond the tolerance.
 */
export function accuracyTableCsv(t: AccuracyTable, extras: TableExtras = {}): string {
  const ref = extras.reference;
  const headline = ref !== undefined || t.rows.some((r) => r.cells.some((c) => c && c.headline !== 'top1'));
  const lines = [
    ['model,fingerprint,dataset,run_id,n,n_failed,top1,top5', ...(headline ? ['metric,value'] : []), ...(ref ? ['paper_model,paper,paper_verified,delta_points,beyond_tolerance'] : [])].join(','),
  ];
  t.rows.forEach((r, i) => {
    r.cells.forEach((c, j) => {
      if (!c) return;
      const x = ref?.cells[i][j];
      const fields: unknown[] = [r.model, r.fingerprint, t.columns[j], c.runId, c.n, c.nFailed, c.top1, c.top5 ?? ''];
      if (headline) fields.push(c.headline, c.headlineValue ?? '');
      if (ref) fields.push(ref.model, x?.paper ?? '', x?.verified ?? '', x?.delta ?? '', x && x.paper !== null ? x.flagged : '');
      lines.push(fields.map((v) => csvField(String(v))).join(','));
    });
  });
  return lines.join('\n') + '\n';
}

export function accuracyTableJson(t: AccuracyTable): string {
  return JSON.stringify(t, null, 2) + '\n';
}
