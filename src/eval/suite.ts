/**
 * A suite is data: `configs/suites/<id>.json` (or a file of your own) lists datasets, each with the folder
 * names to look for under one data root. Running a suite evaluates every dataset found there through a
 * callback (the CLI passes `eval`'s own run), records the ones whose adapter refuses the folder as failed,
 * lists the ones not found, and builds one table: our headline metric beside the paper's, and their means.
 *
 * Adapters are looked up by id only when a dataset is found, so a suite may name datasets whose adapters
 * this build lacks: not found, they are skipped; found, they fail with "unknown dataset".
 */
import { signed } from '../report/accuracy-table.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError, unknownName } from '../errors.js';
import { packageRoot } from '../paths.js';
import { paperCell, paperNumbers } from '../report/paper.js';
import type { MetricId } from './metric-ids.js';
import type { EvalResult } from './zero-shot.js';
import { isRetrievalDataset } from '../datasets/retrieval/index.js';
import { DATASETS, type DatasetId } from '../datasets/index.js';
import { loadPromptSet } from '../prompts/prompt-set.js';
import { chanceLevel, groupAverages, type GroupAverage } from '../report/group-averages.js';
import { parseAveraging, parseChance, parseGroups, type StatedChance, type SuiteAveraging, type SuiteGroup } from './suite-groups.js';

export const SUITES_DIR = path.join(packageRoot, 'configs', 'suites');

export interface SuiteEntry {
  /** adapter id (`clip-bench ls datasets`) */
  dataset: string;
  /** paths under the data root to try, in order; the first that exists is the dataset's --root */
  dirs: string[];
  split?: string;
  /** prompt set id or file; default: the adapter's own */
  prompts?: string;
  /** key of configs/paper/zero-shot.json to compare with; default: the dataset id where the paper has it */
  paper?: string;
  /** row label, default the dataset id (needed when one adapter appears twice, e.g. several WebDataset folders) */
  name?: string;
  /** the captions' language of a multilingual retrieval dataset (`eval --language`) */
  language?: string;
  /** the chance level where 1/classes does not give it (retrieval, mAP), with its source */
  chance?: StatedChance;
}

export interface Suite {
  id: string;
  description?: string;
  datasets: SuiteEntry[];
  /** named sets of the datasets, averaged in the output (suite-groups.ts) */
  groups?: SuiteGroup[];
  /** how the suite's mean is taken, where the file says */
  averaging?: SuiteAveraging | null;
  source: string;
}

const ENTRY_KEYS = ['dataset', 'dirs', 'split', 'prompts', 'paper', 'name', 'language', 'chance'];

/** Suite ids shipped in configs/suites. */
export function listSuites(): string[] {
  return existsSync(SUITES_DIR) ? readdirSync(SUITES_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort() : [];
}

/** The row label of an entry. */
export const entryName = (e: SuiteEntry): string => e.name ?? (e.language ? `${e.dataset} ${e.language}` : e.dataset);

/** The paper key an entry is compared with, or null where the paper has no such dataset. */
export function entryPaperKey(e: SuiteEntry): string | null {
  const key = e.paper ?? e.dataset;
  return Object.hasOwn(paperNumbers().datasets, key) ? key : null;
}

/** Loads and checks a suite by id (`configs/suites/<id>.json`) or path. */
export function loadSuite(ref: string): Suite {
  const isPath = ref.endsWith('.json') || ref.includes('/') || ref.includes(path.sep);
  const file = isPath ? path.resolve(ref) : path.join(SUITES_DIR, `${ref}.json`);
  if (!existsSync(file)) {
    if (isPath) throw new UsageError('suite file not found', { file: ref, fix: `pass an existing JSON file or one of: ${listSuites().join(', ')}` });
    throw unknownName('suite', ref, listSuites());
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`not valid JSON: ${(err as Error).message}`, { file, fix: 'fix the JSON syntax of the suite file' });
  }
  const fix = 'write {"datasets": [{"dataset": "cifar10", "dirs": ["cifar10", "cifar-10-batches-py"]}, …]}';
  const obj = raw as { description?: unknown; datasets?: unknown; groups?: unknown; averaging?: unknown };
  if (typeof raw !== 'object' || raw === null || !Array.isArray(obj.datasets) || obj.datasets.length === 0) {
    throw new UsageError('a suite is a JSON object with a non-empty "datasets" list', { file, fix });
  }
  const names = new Set<string>();
  const datasets = obj.datasets.map((e: unknown, i: number): SuiteEntry => {
    const where = `datasets[${i}]`;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new UsageError(`${where} is not an object`, { file, fix });
    const entry = e as Record<string, unknown>;
    const unknownKey = Object.keys(entry).find((k) => !ENTRY_KEYS.includes(k));
    if (unknownKey) throw new UsageError(`${where} has an unknown key "${unknownKey}"`, { file, fix: `the keys are ${ENTRY_KEYS.join(', ')}` });
    if (typeof entry.dataset !== 'string' || !entry.dataset) throw new UsageError(`${where} needs "dataset": an adapter id`, { file, fix });
    const dirs = entry.dirs;
    if (!Array.isArray(dirs) || dirs.length === 0 || !dirs.every((d) => typeof d === 'string' && d && !path.isAbsolute(d))) {
      throw new UsageError(`${where} (${entry.dataset}) needs "dirs": a non-empty list of paths relative to the data root`, { file, fix });
    }
    for (const k of ['split', 'prompts', 'paper', 'name', 'language'] as const) {
      if (entry[k] !== undefined && (typeof entry[k] !== 'string' || !entry[k])) throw new UsageError(`${where} (${entry.dataset}): "${k}" must be a non-empty string`, { file, fix });
    }
    if (isRetrievalDataset(entry.dataset) && entry.prompts !== undefined) {
      throw new UsageError(`${where} (${entry.dataset}): "prompts" is for classification; a retrieval dataset's text side is its captions`, { file, fix: 'leave "prompts" out (--caption-prefix sets a prefix for the whole suite)' });
    }
    const out = { dataset: entry.dataset, dirs: dirs as string[], split: entry.split, prompts: entry.prompts, paper: entry.paper, name: entry.name, language: entry.language, chance: parseChance(entry.chance, where, file) } as SuiteEntry;
    if (out.paper !== undefined && !Object.hasOwn(paperNumbers().datasets, out.paper)) {
      const err = unknownName('paper dataset', out.paper, Object.keys(paperNumbers().datasets));
      throw new UsageError(`${where}: ${err.message}`, { file, fix: err.fix });
    }
    if (names.has(entryName(out))) throw new UsageError(`${where}: "${entryName(out)}" is listed twice`, { file, fix: 'give repeated adapters distinct "name"s' });
    names.add(entryName(out));
    return out;
  });
  const groups = parseGroups(obj.groups, names, file);
  return { id: path.basename(file, '.json'), description: typeof obj.description === 'string' ? obj.description : undefined, datasets, groups, averaging: parseAveraging(obj.averaging, file), source: file };
}

export interface FoundDataset {
  entry: SuiteEntry;
  root: string;
}

export interface SkippedDataset {
  entry: SuiteEntry;
  /** the paths tried */
  looked: string[];
}

/** Splits the suite into datasets found under `dataRoot` (first existing path of each) and those not found. */
export function findSuiteDatasets(suite: Suite, dataRoot: string): { found: FoundDataset[]; skipped: SkippedDataset[] } {
  const found: FoundDataset[] = [];
  const skipped: SkippedDataset[] = [];
  for (const entry of suite.datasets) {
    const looked = entry.dirs.map((d) => path.join(dataRoot, d));
    const root = looked.find((p) => existsSync(p));
    if (root) found.push({ entry, root });
    else skipped.push({ entry, looked });
  }
  return { found, skipped };
}

/** What the suite needs of one evaluation. */
export type SuiteResult = Pick<EvalResult, 'runId' | 'doneEarlier' | 'dataset' | 'split' | 'promptSet' | 'n' | 'nFailed' | 'top1' | 'headline' | 'headlineValue'>;

export type SuiteEvent =
  | { kind: 'start'; index: number; total: number; entry: SuiteEntry; root: string }
  | { kind: 'done'; index: number; total: number; entry: SuiteEntry; result: SuiteResult }
  | { kind: 'failed'; index: number; total: number; entry: SuiteEntry; reason: string };

export interface SuiteOutcome {
  suite: Suite;
  dataRoot: string;
  ran: (FoundDataset & { result: SuiteResult })[];
  /** found, but the adapter (or the prompts) refused it: the one-line reason */
  failed: (FoundDataset & { reason: string })[];
  skipped: SkippedDataset[];
}

/**
 * Evaluates every dataset of the suite found under `dataRoot`, in suite order. A `UsageError` from one
 * dataset (a layout its adapter refuses, an unknown adapter) is recorded and the suite goes on; an
 * interruption (exit code 130) or any other error ends it.
 */
export async function runSuite(
  suite: Suite,
  dataRoot: string,
  evaluate: (entry: SuiteEntry, root: string) => Promise<SuiteResult>,
  onEvent?: (e: SuiteEvent) => void,
): Promise<SuiteOutcome> {
  const { found, skipped } = findSuiteDatasets(suite, dataRoot);
  const outcome: SuiteOutcome = { suite, dataRoot, ran: [], failed: [], skipped };
  for (const [i, f] of found.entries()) {
    const at = { index: i + 1, total: found.length, entry: f.entry };
    onEvent?.({ kind: 'start', ...at, root: f.root });
    try {
      const result = await evaluate(f.entry, f.root);
      outcome.ran.push({ ...f, result });
      onEvent?.({ kind: 'done', ...at, result });
    } catch (err) {
      if (!(err instanceof UsageError) || err.exitCode === 130) throw err;
      outcome.failed.push({ ...f, reason: err.oneLine() });
      onEvent?.({ kind: 'failed', ...at, reason: err.oneLine() });
    }
  }
  return outcome;
}

export interface SuiteRow {
  name: string;
  dataset: string;
  split: string;
  root: string;
  runId: number;
  n: number;
  nFailed: number;
  promptSet: string;
  /** our headline metric (the adapter's, which is the paper's for its dataset) */
  metric: MetricId;
  /** percent */
  ours: number;
  /** the paper key compared with, its metric, its number (percent) and whether that cell is verified; null where none */
  paperDataset: string | null;
  paperMetric: MetricId | null;
  paper: number | null;
  verified: boolean | null;
  /** ours − paper, in points */
  delta: number | null;
  /** percent: guessing at random (group-averages.ts chanceLevel, or the suite's stated value); null where unknown */
  chance: number | null;
}

export interface SuiteTable {
  suite: string;
  dataRoot: string;
  reference: string | null;
  rows: SuiteRow[];
  failed: { name: string; dataset: string; root: string; reason: string }[];
  skipped: { name: string; dataset: string; looked: string[] }[];
  /** the suite's groups averaged over the rows ("k of n" where some did not run) */
  groups: GroupAverage[];
  /** how the suite says its mean is taken; null where it does not */
  averaging: string | null;
  mean: {
    /** datasets that ran, of the suite's total */
    datasets: number;
    of: number;
    ours: number | null;
    /** the paper's mean over the same datasets, where every one has a paper number */
    paper: number | null;
    /** some paper cell in that mean is unverified */
    paperUnverified: boolean;
    delta: number | null;
    /** every dataset of the suite ran */
    complete: boolean;
    note: string;
  };
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Percent: the entry's stated chance level, else the metric's over the dataset's class count (its own prompt set's classes). */
export function entryChance(e: SuiteEntry, metric: MetricId): number | null {
  if (e.chance) return 100 * e.chance.value;
  const own = Object.hasOwn(DATASETS, e.dataset) ? DATASETS[e.dataset as DatasetId].defaultPrompts : undefined;
  let classes: number | null = null;
  try {
    const set = typeof own === 'string' ? loadPromptSet(own) : null;
    classes = set?.classes ? Object.keys(set.classes).length : null;
  } catch {
    classes = null; // no class list to count: the chance level is unknown, and shown so
  }
  const c = chanceLevel(metric, classes);
  return c === null ? null : 100 * c;
}

/** The group lines under the suite's table: each group's mean, or "k of n" with the missing datasets. */
function formatGroups(t: SuiteTable): string[] {
  if (t.groups.length === 0) return [];
  const width = Math.max(...t.groups.map((g) => g.name.length));
  return [
    '',
    `group averages${t.averaging ? ` (${t.averaging})` : ''}:`,
    ...t.groups.map((g) => `  ${g.name.padEnd(width)}  ${g.mean === null ? `${g.text} datasets ran, not averaged (missing: ${g.missing.join(', ')})` : `${g.text}  (${g.of} dataset${g.of === 1 ? '' : 's'}${typeof g.chance === 'number' ? `; chance ${g.chance.toFixed(2)}` : ''})`}`),
  ];
}

/** The suite's table: one row per dataset that ran (suite order), with the paper's number for `reference` when given. */
export function suiteTable(o: SuiteOutcome, reference?: string): SuiteTable {
  const rows = o.ran.map(({ entry, root, result: r }): SuiteRow => {
    const key = entryPaperKey(entry);
    const cell = reference && key ? paperCell(key, reference) : null;
    const ours = 100 * (r.headlineValue ?? r.top1);
    return {
      name: entryName(entry),
      dataset: r.dataset,
      split: r.split,
      root,
      runId: r.runId,
      n: r.n,
      nFailed: r.nFailed,
      promptSet: r.promptSet,
      // a headline that could not be computed (e.g. ROC-AUC with one class present) falls back to top-1, labelled so
      metric: r.headlineValue === null ? 'top1' : r.headline,
      ours,
      paperDataset: reference ? key : null,
      paperMetric: reference && key ? paperNumbers().datasets[key].metric : null,
      paper: cell?.value ?? null,
      verified: cell ? cell.verified : null,
      delta: cell ? ours - cell.value : null,
      chance: entryChance(entry, r.headlineValue === null ? 'top1' : r.headline),
    };
  });
  const of = o.suite.datasets.length;
  const complete = rows.length === of;
  const withPaper = rows.length > 0 && rows.every((r) => r.paper !== null);
  const oursMean = rows.length ? mean(rows.map((r) => r.ours)) : null;
  const paperMean = withPaper ? mean(rows.map((r) => r.paper!)) : null;
  const note = complete
    ? `mean over all ${of} datasets of the suite`
    : `mean over the ${rows.length} of ${of} datasets that ran: not the suite's ${of}-dataset mean (the paper's Table 11 mean needs all 27)`;
  return {
    suite: o.suite.id,
    dataRoot: o.dataRoot,
    reference: reference ?? null,
    rows,
    failed: o.failed.map((f) => ({ name: entryName(f.entry), dataset: f.entry.dataset, root: f.root, reason: f.reason })),
    skipped: o.skipped.map((s) => ({ name: entryName(s.entry), dataset: s.entry.dataset, looked: s.looked })),
    groups: groupAverages(o.suite.groups ?? [], new Map(rows.map((r) => [r.name, r.ours])), new Map(rows.map((r) => [r.name, r.chance]))),
    averaging: o.suite.averaging?.description ?? null,
    mean: {
      datasets: rows.length,
      of,
      ours: oursMean,
      paper: paperMean,
      paperUnverified: withPaper && rows.some((r) => r.verified === false),
      delta: oursMean !== null && paperMean !== null ? oursMean - paperMean : null,
      complete,
      note,
    },
  };
}

/** The table as Markdown with the failed and skipped datasets listed below it. Unverified paper cells carry a `*`. */
export function formatSuiteTable(t: SuiteTable): string {
  const f2 = (x: number) => x.toFixed(2);
  const ref = t.reference;
  const head = ref ? ['dataset', 'metric', 'ours', `paper ${ref}`, 'Δ'] : ['dataset', 'metric', 'ours'];
  const lines = [`| ${head.join(' | ')} |`, `|---|---|${head.slice(2).map(() => '---:').join('|')}|`];
  for (const r of t.rows) {
    const metric = r.paperMetric && r.paperMetric !== r.metric ? `${r.metric} (paper: ${r.paperMetric})` : r.metric;
    const cells = [r.name, metric, f2(r.ours)];
    if (ref) cells.push(r.paper === null ? '—' : `${r.paper.toFixed(1)}${r.verified ? '' : '*'}`, r.delta === null ? '—' : signed(r.delta));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const m = t.mean;
  const meanCells = [`mean (${m.datasets} of ${m.of})`, '', m.ours === null ? '—' : f2(m.ours)];
  if (ref) meanCells.push(m.paper === null ? '—' : `${m.paper.toFixed(2)}${m.paperUnverified ? '*' : ''}`, m.delta === null ? '—' : signed(m.delta));
  lines.push(`| ${meanCells.join(' | ')} |`);
  const out = [`suite ${t.suite}: ${t.rows.length} of ${m.of} datasets ran under ${t.dataRoot}`, '', ...lines, '', m.note + '.'];
  if (ref && t.rows.some((r) => r.verified === false)) out.push('* unverified paper cell: a recalled value still to be checked against the paper.');
  if (ref && t.rows.length && m.paper === null) out.push(`The paper mean is left out: some datasets that ran have no ${ref} number in the paper.`);
  out.push(...formatGroups(t));
  if (t.failed.length) out.push('', `failed (${t.failed.length}):`, ...t.failed.map((f) => `  ${f.name}: ${f.reason}`));
  if (t.skipped.length) out.push('', `skipped, not found under the data root (${t.skipped.length}): ${t.skipped.map((s) => s.name).join(', ')}`);
  return out.join('\n');
}
