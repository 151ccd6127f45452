/**
 * Reading CLIP_benchmark's result files: the per-run JSON its `eval` writes (src/interop/clip-benchmark-record.ts)
 * and the long CSV its `build` makes of them (benchmark/benchmark.csv: one row per run, one column per
 * metric, empty where a run has no such metric). Pure: text in, records out; a file that is neither is a
 * UsageError naming the file and what was expected.
 */
import { parseCsv } from '../datasets/manifest.js';
import { UsageError } from '../errors.js';
import { clipBenchIdOf } from './clip-benchmark-names.js';

export type ImportFormat = 'clip_benchmark_json' | 'clip_benchmark_csv';

export interface ImportedRecord {
  /** 0 for a JSON file; the CSV line the row is on */
  row: number;
  /** their dataset name, as in the file */
  theirDataset: string;
  /** our dataset id, null where we have none or theirs is not comparable */
  dataset: string | null;
  /** said beside the numbers (a split that differs, why it is not comparable) */
  note: string | null;
  model: string;
  pretrained: string;
  task: string;
  /** null where the file does not say (benchmark.csv has no language column) */
  language: string | null;
  /** fractions as written; null for NaN */
  metrics: { metric: string; value: number | null }[];
}

/** The columns of benchmark.csv that are not metrics (cli.py `build`: the JSON's keys less "metrics", plus model_fullname). */
export const CSV_ID_COLUMNS = ['dataset', 'model', 'pretrained', 'task', 'language', 'model_fullname', 'classnames', 'templates'] as const;
const REQUIRED = ['dataset', 'model', 'pretrained', 'task'] as const;
const JSON_FIX = 'pass CLIP_benchmark result files: its eval JSON ({"dataset", "model", "pretrained", "task", "metrics": {…}, "language"}) or the CSV its `build` writes (benchmark/benchmark.csv)';

/** Python's json.dump writes NaN and ±Infinity bare; as JSON they are not numbers, so they become null outside strings. */
const pythonJsonText = (text: string) => text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (t) => (t.startsWith('"') ? t : 'null'));

/** Parses one result file, JSON or CSV told apart by its first character. */
export function parseClipBenchmarkFile(text: string, file: string): { format: ImportFormat; records: ImportedRecord[] } {
  const body = text.replace(/^\uFEFF/, '').trimStart();
  if (body.startsWith('{')) return { format: 'clip_benchmark_json', records: [parseResultJson(body, file)] };
  if (/^[^\n]*\bdataset\b/.test(body)) return { format: 'clip_benchmark_csv', records: parseBenchmarkCsv(body, file) };
  throw new UsageError('not a CLIP_benchmark result file (neither a JSON object nor a CSV with a "dataset" column)', { file, fix: JSON_FIX });
}

function parseResultJson(text: string, file: string): ImportedRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(pythonJsonText(text));
  } catch (err) {
    throw new UsageError(`not valid JSON: ${(err as Error).message}`, { file, fix: JSON_FIX });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError('not a CLIP_benchmark result: a JSON object was expected', { file, fix: JSON_FIX });
  const o = raw as Record<string, unknown>;
  for (const k of REQUIRED) if (typeof o[k] !== 'string' || !o[k]) throw new UsageError(`not a CLIP_benchmark result: "${k}" is missing or not a string`, { file, fix: JSON_FIX });
  if (o.language !== undefined && typeof o.language !== 'string') throw new UsageError('not a CLIP_benchmark result: "language" is not a string', { file, fix: JSON_FIX });
  const m = o.metrics;
  if (typeof m !== 'object' || m === null || Array.isArray(m) || Object.keys(m).length === 0) throw new UsageError('not a CLIP_benchmark result: "metrics" is missing or not a non-empty object', { file, fix: JSON_FIX });
  const metrics = Object.entries(m as Record<string, unknown>).map(([metric, value]) => {
    if (value !== null && typeof value !== 'number') throw new UsageError(`not a CLIP_benchmark result: metrics.${metric} is not a number`, { file, fix: JSON_FIX });
    return { metric, value };
  });
  return { row: 0, ...identity(o as Record<(typeof REQUIRED)[number], string>), language: (o.language as string | undefined) ?? null, metrics };
}

function identity(o: Record<(typeof REQUIRED)[number], string>) {
  const { dataset, note } = clipBenchIdOf(o.dataset);
  return { theirDataset: o.dataset, dataset, note, model: o.model, pretrained: o.pretrained, task: o.task };
}

function parseBenchmarkCsv(text: string, file: string): ImportedRecord[] {
  const [head, ...rows] = parseCsv(text, file);
  const header = head.fields.map((h) => h.trim());
  const missing = REQUIRED.filter((c) => !header.includes(c));
  const metricColumns = header.filter((h) => !(CSV_ID_COLUMNS as readonly string[]).includes(h));
  if (missing.length || metricColumns.length === 0) {
    throw new UsageError(`not CLIP_benchmark's benchmark.csv: ${missing.length ? `no ${missing.map((c) => `"${c}"`).join(', ')} column` : 'no metric column'}`, { file, fix: `its header is ${CSV_ID_COLUMNS.slice(0, 4).join(',')}[,language] and one column per metric (acc1, acc5, …), as \`clip_benchmark build\` writes it` });
  }
  if (rows.length === 0) throw new UsageError("not CLIP_benchmark's benchmark.csv: a header and no rows", { file, fix: 'pass a CSV with one row per run' });
  return rows.map(({ line, fields }) => {
    if (fields.length !== header.length) throw new UsageError(`${fields.length} fields where the header has ${header.length}`, { file: `${file}:${line}`, fix: 'every row needs one field per header column' });
    const cell = (c: string) => fields[header.indexOf(c)].trim();
    for (const c of REQUIRED) if (!cell(c)) throw new UsageError(`empty "${c}"`, { file: `${file}:${line}`, fix: 'every row names its dataset, model, pretrained tag and task' });
    const metrics = metricColumns.flatMap((metric): ImportedRecord['metrics'] => {
      const v = cell(metric);
      if (v === '') return []; // this run has no such metric
      if (/^-?nan$/i.test(v)) return [{ metric, value: null }];
      const x = Number(v);
      if (!Number.isFinite(x)) throw new UsageError(`${metric} is "${v}", not a number`, { file: `${file}:${line}`, fix: 'metric cells hold numbers (fractions), nan, or nothing' });
      return [{ metric, value: x }];
    });
    if (metrics.length === 0) throw new UsageError('a row with no metric value', { file: `${file}:${line}`, fix: 'every row holds at least one metric' });
    return { row: line, ...identity({ dataset: cell('dataset'), model: cell('model'), pretrained: cell('pretrained'), task: cell('task') }), language: header.includes('language') && cell('language') ? cell('language') : null, metrics };
  });
}
