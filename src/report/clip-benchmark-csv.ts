/**
 * `report --format csv --csv-columns clip-benchmark`: the runs the report shows as the CSV CLIP_benchmark's
 * `build` makes of its result JSON files (cli.py main_build: each file's metrics flattened beside its dataset,
 * model, pretrained, task and language, plus model_fullname = model + " " + pretrained; a run without a
 * metric leaves its cell empty). build's column order is a Python set's, so not fixed; this follows the
 * published benchmark/benchmark.csv (metrics, then dataset, model, pretrained, task, retrieval metrics),
 * with language, which that file predates, before model_fullname.
 */
import { UsageError } from '../errors.js';
import { clipBenchmarkRecord, pythonFloat, type ClipBenchmarkRecord } from '../interop/clip-benchmark-record.js';
import type { RunRecord } from '../store/runs.js';
import { csvField } from './accuracy-table.js';

const CLASSIFICATION_METRICS = ['acc1', 'acc5', 'mean_per_class_recall'];
const IDENTITY = ['dataset', 'model', 'pretrained', 'task'] as const;

/** The CSV, and a line per run left out (part of a split, a dataset CLIP_benchmark lacks) with why. */
export function clipBenchmarkCsv(runs: readonly RunRecord[]): { csv: string; skipped: string[] } {
  const records: ClipBenchmarkRecord[] = [];
  const skipped: string[] = [];
  for (const run of runs) {
    try {
      records.push(clipBenchmarkRecord(run));
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      skipped.push(err.oneLine());
    }
  }
  const k = (m: string) => Number(m.split('@')[1]);
  const retrieval = [...new Set(records.flatMap((r) => (r.task === 'zeroshot_retrieval' ? Object.keys(r.metrics) : [])))].sort((a, b) => k(a) - k(b) || a.localeCompare(b));
  const columns = [...CLASSIFICATION_METRICS, ...IDENTITY, ...retrieval, 'language', 'model_fullname'];
  const lines = [columns.join(',')];
  for (const r of records) {
    const row: Record<string, string> = { dataset: r.dataset, model: r.model, pretrained: r.pretrained, task: r.task, language: r.language, model_fullname: `${r.model} ${r.pretrained}` };
    // csv.DictWriter writes a Python float with str(), which is repr(): NaN as "nan"
    for (const [m, v] of Object.entries(r.metrics)) row[m] = Number.isNaN(v) ? 'nan' : pythonFloat(v);
    lines.push(columns.map((c) => csvField(row[c] ?? '')).join(','));
  }
  return { csv: lines.join('\n') + '\n', skipped };
}
