/**
 * The runs of a results DB as a list — status, progress (samples done of planned), headline metric — and
 * for an unfinished run the command that continues it. What `clip-bench runs` prints, and what `report`
 * names when a DB holds runs that have not finished.
 */
import path from 'node:path';
import type { MetricId } from '../eval/metric-ids.js';
import type { Db } from '../store/db.js';
import { inProgress, isRetrievalRun, listRuns, plannedSamples, predictionCounts, type RunRecord, type RunTask } from '../store/runs.js';
import { headlineOf } from './accuracy-table.js';

export interface RunListing {
  id: number;
  task: RunTask;
  /** as stored; a 'running' run whose process is gone shows `inProgress: false` */
  status: RunRecord['status'];
  /** a live process is writing it now (or one on another host, which cannot be checked) */
  inProgress: boolean;
  model: string;
  /** parsed from the model's name (`ViT-B-32__openai` → ViT-B-32, openai); null where it has no `__` */
  architecture: string | null;
  pretrained: string | null;
  variant: string;
  fingerprint: string;
  dataset: string;
  root: string;
  split: string;
  shard: string | null;
  promptSet: string;
  /** the language of the text side (`--language`); null: the dataset's own */
  language: string | null;
  /** predictions stored so far */
  done: number;
  /** samples the complete run scores; null for runs recorded before clip-bench stored it */
  total: number | null;
  nFailed: number | null;
  startedAt: string;
  finishedAt: string | null;
  /** finished runs: the dataset's headline metric and top-1 / top-5 (retrieval: R@1 of each direction instead) */
  metrics: { headline: MetricId; value: number | null; top1: number | null; top5: number | null; textToImageR1?: number | null; imageToTextR1?: number | null } | null;
  /** unfinished runs: the command that continues it */
  resume: string | null;
}

/** A path or value as one shell word (quoted only where it has to be). */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * The `clip-bench eval` command that continues an unfinished run: its model, dataset, root, split, prompts
 * and the settings in its identity, with `--resume ID`.
 * @example resumeCommand(run, 'r.sqlite') // → "clip-bench eval --model /m/toy --dataset imagefolder --root /d --split all --prompts colours --db r.sqlite --resume 3"
 */
export function resumeCommand(run: RunRecord, dbFile: string): string {
  const p = run.params;
  const args = ['--model', run.modelDir, '--dataset', run.dataset, '--root', run.datasetRoot, '--split', run.split];
  if (isRetrievalRun(run)) {
    if (typeof p.captionPrefix === 'string' && p.captionPrefix) args.push('--caption-prefix', p.captionPrefix);
    if (Array.isArray(p.recallK)) args.push('--recall-k', p.recallK.join(','));
  } else args.push('--prompts', run.promptSet);
  if (run.modelVariant && run.modelVariant !== 'fp32') args.push('--variant', run.modelVariant);
  if (typeof p.limit === 'number') args.push('--limit', String(p.limit));
  if (run.shard) args.push('--shard', run.shard);
  if (p.convention === 'exporter') args.push('--convention', 'exporter');
  if (p.excludeFailures === true) args.push('--exclude-failures');
  if (typeof p.language === 'string') args.push('--language', p.language);
  args.push('--db', dbFile, '--resume', String(run.id));
  return ['clip-bench eval', ...args.map(shellWord)].join(' ');
}

export function runListing(db: Db, dbFile: string): RunListing[] {
  const counts = predictionCounts(db);
  return listRuns(db).map((r) => {
    const finished = r.status === 'finished';
    const { headline, value } = headlineOf(r);
    const stored = (name: string) => (r.metrics?.[name] as { value?: number } | undefined)?.value ?? null;
    const retrieval = isRetrievalRun(r) ? { textToImageR1: stored('image_retrieval_recall@1'), imageToTextR1: stored('text_retrieval_recall@1') } : {};
    return {
      id: r.id,
      task: r.task ?? 'classification',
      status: r.status,
      inProgress: inProgress(r),
      model: r.modelName,
      architecture: r.architecture ?? null,
      pretrained: r.pretrained ?? null,
      variant: r.modelVariant,
      fingerprint: r.modelFingerprint,
      dataset: r.dataset,
      root: r.datasetRoot,
      split: r.split,
      shard: r.shard,
      promptSet: r.promptSet,
      language: typeof r.params.language === 'string' ? r.params.language : null,
      done: counts.get(r.id) ?? 0,
      total: plannedSamples(r) ?? (finished ? (counts.get(r.id) ?? 0) : null),
      nFailed: r.nFailed,
      startedAt: r.createdAt,
      finishedAt: r.finishedAt,
      metrics: finished ? { headline, value, top1: r.top1, top5: r.top5, ...retrieval } : null,
      resume: finished ? null : resumeCommand(r, dbFile),
    };
  });
}

/** "interrupted", "running", or "running, but its process is gone" for a run left by a killed process. */
export function statusText(r: Pick<RunListing, 'status' | 'inProgress'>): string {
  return r.status === 'running' && !r.inProgress ? 'stopped (its process is gone)' : r.status;
}

const pct = (x: number | null) => (x === null ? 'n/a' : (100 * x).toFixed(2));

/** One line for an unfinished run: what it is, how far it got, and how to continue it. */
export function unfinishedLine(r: RunListing): string {
  const what = `${r.model}${r.variant !== 'fp32' ? ` ${r.variant}` : ''} on ${r.dataset}/${r.split}${r.shard ? ` shard ${r.shard}` : ''} (${r.root}) ${r.task === 'retrieval' ? `retrieval with ${r.promptSet}` : `with prompts "${r.promptSet}"${r.language ? ` in language ${r.language}` : ''}`}`;
  const progress = `${r.done}${r.total === null ? '' : ` of ${r.total}`} samples done`;
  const next = r.inProgress ? 'a process is writing it now' : `to continue: ${r.resume}`;
  return `run ${r.id} ${statusText(r)}: ${what}, ${progress}; ${next}`;
}

/** The listing as an aligned text table, one run per line. */
export function runListingText(runs: readonly RunListing[]): string {
  if (runs.length === 0) return 'No runs in this database yet: run `clip-bench eval` first.\n';
  const head = ['id', 'status', 'model', 'dataset (root)', 'split', 'prompts', 'done/total', 'started (UTC)', 'metrics'];
  const rows = runs.map((r) => [
    String(r.id),
    statusText(r),
    `${r.model}${r.variant !== 'fp32' ? ` ${r.variant}` : ''} (${r.fingerprint.slice(0, 8)})`,
    `${r.dataset} (${path.basename(r.root)}: ${r.root})`,
    `${r.split}${r.shard ? ` shard ${r.shard}` : ''}`,
    r.promptSet,
    `${r.done}/${r.total ?? '?'}`,
    r.startedAt.slice(0, 19).replace('T', ' '),
    r.metrics ? metricsCell(r) : '–',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  const unfinished = runs.filter((r) => r.status !== 'finished');
  return [line(head), ...rows.map(line), ...(unfinished.length ? ['', ...unfinished.map(unfinishedLine)] : []), ''].join('\n');
}

/** The metrics column of a finished run. */
function metricsCell(r: RunListing): string {
  const m = r.metrics!;
  const failed = r.nFailed ? `, ${r.nFailed} failed` : '';
  if (r.task === 'retrieval') {
    if (m.value === null) return `not ranked (a shard: merge to rank)${failed}`;
    return `${m.headline} ${pct(m.value)} (text→image R@1 ${pct(m.textToImageR1 ?? null)}, image→text R@1 ${pct(m.imageToTextR1 ?? null)})${failed}`;
  }
  return `${m.headline} ${pct(m.value)}${m.headline === 'top1' ? ` (top-5 ${pct(m.top5)})` : ` (top-1 ${pct(m.top1)})`}${failed}`;
}
