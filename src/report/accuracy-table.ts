/**
 * The model × dataset accuracy table: for each (model, dataset, split, prompt set) the latest finished run.
 * Pure: builds from run records and renders to Markdown, CSV or JSON.
 */
import path from 'node:path';
import type { RunRecord } from '../store/runs.js';

export interface TableCell {
  runId: number;
  top1: number;
  top5: number;
  n: number;
  nFailed: number;
  /** failed samples left out of n (--exclude-failures) rather than counted as wrong */
  failuresExcluded: boolean;
}

export interface AccuracyTable {
  /** column label: dataset (and split / prompt set when they vary) */
  columns: string[];
  /** row label: model name with a short fingerprint */
  rows: { model: string; fingerprint: string; cells: (TableCell | null)[] }[];
  /** the runs shown in the cells, with their provenance */
  runs: RunProvenance[];
}

export interface RunProvenance {
  runId: number;
  model: string;
  fingerprint: string;
  dataset: string;
  root: string;
  split: string;
  promptSet: string;
  promptHash: string;
  n: number;
  nFailed: number;
  date: string;
  commit: string | null;
}

/** Generic adapters (any ImageFolder) are told apart by their root folder's name. */
function datasetLabel(r: RunRecord): string {
  return r.dataset === 'imagefolder' ? `imagefolder:${path.basename(r.datasetRoot)}` : r.dataset;
}

export function buildAccuracyTable(runs: readonly RunRecord[]): AccuracyTable {
  const finished = runs.filter((r) => r.status === 'finished' && r.top1 !== null);
  const nDatasets = new Set(finished.map(datasetLabel)).size;
  const splitsVary = new Set(finished.map((r) => `${datasetLabel(r)}\0${r.split}`)).size > nDatasets;
  const promptsVary = new Set(finished.map((r) => `${datasetLabel(r)}\0${r.promptSet}`)).size > nDatasets;
  const colOf = (r: RunRecord) => [datasetLabel(r), splitsVary ? r.split : null, promptsVary ? r.promptSet : null].filter(Boolean).join(' / ');
  const columns = [...new Set(finished.map(colOf))].sort();
  const byModel = new Map<string, { model: string; fingerprint: string; cells: (TableCell | null)[] }>();
  for (const r of finished) {
    const key = r.modelFingerprint;
    if (!byModel.has(key)) byModel.set(key, { model: r.modelName, fingerprint: r.modelFingerprint, cells: columns.map(() => null) });
    const row = byModel.get(key)!;
    const c = columns.indexOf(colOf(r));
    const prev = row.cells[c];
    if (!prev || prev.runId < r.id) row.cells[c] = { runId: r.id, top1: r.top1!, top5: r.top5!, n: r.n!, nFailed: r.nFailed ?? 0, failuresExcluded: r.params.excludeFailures === true };
  }
  const rows = [...byModel.values()].sort((a, b) => a.model.localeCompare(b.model) || a.fingerprint.localeCompare(b.fingerprint));
  const shown = new Set(rows.flatMap((r) => r.cells.flatMap((c) => (c ? [c.runId] : []))));
  const runsShown = finished
    .filter((r) => shown.has(r.id))
    .map((r) => ({
      runId: r.id,
      model: r.modelName,
      fingerprint: r.modelFingerprint,
      dataset: r.dataset,
      root: r.datasetRoot,
      split: r.split,
      promptSet: r.promptSet,
      promptHash: r.promptHash,
      n: r.n!,
      nFailed: r.nFailed ?? 0,
      date: r.finishedAt ?? r.createdAt,
      commit: typeof r.environment.gitCommit === 'string' ? r.environment.gitCommit : null,
    }));
  return { columns, rows, runs: runsShown };
}

const pct = (x: number) => (100 * x).toFixed(2);
const label = (r: AccuracyTable['rows'][number]) => `${r.model} (${r.fingerprint.slice(0, 8)})`;

export function accuracyTableMarkdown(t: AccuracyTable): string {
  if (t.columns.length === 0) return '_No finished runs yet: run `clip-bench eval` first._\n';
  const head = `| model | ${t.columns.join(' | ')} |`;
  const sep = `|---|${t.columns.map(() => '---:').join('|')}|`;
  const body = t.rows.map((r) => `| ${label(r)} | ${r.cells.map((c) => (c ? `${pct(c.top1)} / ${pct(c.top5)}` : '–')).join(' | ')} |`);
  const notes = t.rows.flatMap((r) =>
    r.cells
      .filter((c): c is TableCell => !!c && c.nFailed > 0)
      .map((c) => (c.failuresExcluded ? `- run ${c.runId}: ${c.nFailed} samples failed to decode and are excluded (scored over the ${c.n} decoded)` : `- run ${c.runId}: ${c.nFailed} of ${c.n} samples failed to decode and count as wrong`)),
  );
  const runs = t.runs.map(
    (r) =>
      `| ${r.runId} | ${r.model} | \`${r.fingerprint.slice(0, 12)}\` | ${r.dataset} | ${r.root} | ${r.split} | ${r.promptSet} (\`${r.promptHash.slice(0, 8)}\`) | ${r.n} | ${r.nFailed} | ${r.date.slice(0, 19)} | ${r.commit ? r.commit.slice(0, 8) : '–'} |`,
  );
  return [
    'Zero-shot top-1 / top-5 accuracy (%), latest finished run per cell.',
    '',
    head,
    sep,
    ...body,
    '',
    ...(notes.length ? [...notes, ''] : []),
    '### Runs',
    '',
    '| run | model | fingerprint | dataset | root | split | prompts | n | failed | finished (UTC) | clip-bench |',
    '|---:|---|---|---|---|---|---|---:|---:|---|---|',
    ...runs,
    '',
  ].join('\n');
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Long format: one line per cell, so it loads into any spreadsheet or dataframe. */
export function accuracyTableCsv(t: AccuracyTable): string {
  const lines = ['model,fingerprint,dataset,run_id,n,n_failed,top1,top5'];
  for (const r of t.rows) {
    r.cells.forEach((c, i) => {
      if (c) lines.push([r.model, r.fingerprint, t.columns[i], c.runId, c.n, c.nFailed, c.top1, c.top5].map((v) => csvField(String(v))).join(','));
    });
  }
  return lines.join('\n') + '\n';
}

export function accuracyTableJson(t: AccuracyTable): string {
  return JSON.stringify(t, null, 2) + '\n';
}
