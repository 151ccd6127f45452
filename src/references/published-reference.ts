/**
 * A published table as a reference: which row each model is compared with (one row for all, `--reference
 * openclip:ARCH/tag`, or each model's own by its parsed folder name), and per (row, clip-bench dataset) the
 * published number in percent with its source, protocol note and whether it may be subtracted from ours
 * (configs/references/published-datasets.json says which of their datasets are comparable).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError, unknownName } from '../errors.js';
import type { MetricId } from '../eval/metric-ids.js';
import { parseModelName } from '../models/model-name.js';
import { packageRoot } from '../paths.js';
import { publishedFileName, readPublishedTable, type PublishedKind, type PublishedRow, type PublishedTable } from './published-table.js';

export interface PublishedMapping {
  /** their dataset name: an open_clip column, a benchmark.csv `dataset` value */
  name: string;
  /** the column(s) whose mean is the published value (benchmark.csv: metric columns of that dataset's rows) */
  from: string[];
  /** clip-bench dataset id */
  dataset: string;
  /** the clip-bench headline their number stands for; null where none does */
  metric: MetricId | null;
  comparable: boolean;
  note: string | null;
}

export interface KindMappings {
  files: string;
  /** how every number of this kind was made */
  protocol: string;
  datasets: PublishedMapping[];
}

let cached: Record<PublishedKind, KindMappings> | undefined;

/** configs/references/published-datasets.json, by file kind. */
export function publishedMappings(): Record<PublishedKind, KindMappings> {
  if (cached) return cached;
  const raw = JSON.parse(readFileSync(path.join(packageRoot, 'configs', 'references', 'published-datasets.json'), 'utf8')) as { kinds: Record<PublishedKind, KindMappings> };
  cached = Object.fromEntries(Object.entries(raw.kinds).map(([k, m]) => [k, { ...m, datasets: m.datasets.map((d) => ({ ...d, note: d.note ?? null })) }])) as Record<PublishedKind, KindMappings>;
  return cached;
}

/** `--reference openclip:ARCH/tag` names a row of the --reference-file */
export const PUBLISHED_PREFIX = 'openclip:';

const FILE_FIX = "pass --reference-file with open_clip's docs/openclip_results.csv (or openclip_classification_results.csv, openclip_retrieval_results.csv) or CLIP_benchmark's benchmark/benchmark.csv";

export interface PublishedReference {
  table: PublishedTable;
  /** the one row every model is compared with (`--reference openclip:KEY`); null: each model's own row */
  fixedKey: string | null;
}

/** Whether `--reference` names a published row rather than a paper model. */
export const isPublishedReference = (reference: string | undefined): boolean => !!reference?.startsWith(PUBLISHED_PREFIX);

/**
 * The published reference that `--reference` and `--reference-file` ask for, or null for none (no file: the
 * paper form or nothing). Reads the file, so a wrong file or an unknown key fails before any work.
 */
export function publishedReferenceFromFlags(reference: string | undefined, referenceFile: string | undefined): PublishedReference | null {
  if (isPublishedReference(reference) && !referenceFile) {
    throw new UsageError(`--reference ${reference} names a row of a published result table, and no table was given`, { fix: FILE_FIX });
  }
  if (!referenceFile) return null;
  const table = readPublishedTable(referenceFile);
  if (!isPublishedReference(reference)) return { table, fixedKey: null };
  const key = reference!.slice(PUBLISHED_PREFIX.length);
  if (!table.rows.has(key)) {
    const err = unknownName('published row', key, [...table.rows.keys()]);
    throw new UsageError(`${err.message} (rows are ARCH/pretrained-tag)`, { file: referenceFile, fix: err.fix });
  }
  return { table, fixedKey: key };
}

export type PublishedMatch = { key: string; row: PublishedRow; reason: null } | { key: string | null; row: null; reason: string };

/** The row a model is compared with: the fixed one, else the one its name parses to (`ViT-B-32__openai` → `ViT-B-32/openai`). */
export function publishedRowFor(ref: PublishedReference, modelName: string): PublishedMatch {
  const file = publishedFileName(ref.table);
  if (ref.fixedKey) return { key: ref.fixedKey, row: ref.table.rows.get(ref.fixedKey)!, reason: null };
  const m = parseModelName(modelName);
  if (!m.architecture || !m.pretrained) return { key: null, row: null, reason: `the name "${modelName}" is not ARCH__pretrained-tag, so it names no row of ${file} (pass --reference openclip:ARCH/tag)` };
  const key = `${m.architecture}/${m.pretrained}`;
  const row = ref.table.rows.get(key);
  return row ? { key, row, reason: null } : { key, row: null, reason: `no row ${key} in ${file}` };
}

export interface PublishedCell {
  /** percent (the file's fraction × 100); null where the row has no value for it */
  value: number | null;
  /** the clip-bench headline it stands for; null where none does */
  metric: MetricId | null;
  /** their dataset name */
  their: string;
  /** file name, row key and column(s): where the number comes from */
  source: string;
  /** how the file's numbers were made */
  protocol: string;
  /** what differs from clip-bench's protocol for this dataset; null where nothing known does */
  note: string | null;
  comparable: boolean;
}

/**
 * The published number for a clip-bench dataset in a row, or null where the file's kind maps none of its datasets to
 * it. Where several of theirs map to one of ours (benchmark.csv's cifar10 and vtab/cifar10), the first with a value.
 */
export function publishedCell(ref: PublishedReference, row: PublishedRow, dataset: string): PublishedCell | null {
  const kind = publishedMappings()[ref.table.kind];
  const candidates = kind.datasets.filter((m) => m.dataset === dataset);
  if (candidates.length === 0) return null;
  const keysOf = (m: PublishedMapping) => m.from.map((c) => (ref.table.kind === 'clip_benchmark' ? `${m.name}|${c}` : c));
  const valueOf = (m: PublishedMapping) => {
    const xs = keysOf(m).map((k) => row.values.get(k));
    // the mean of the listed columns, ×100 as clip-bench shows percent
    return xs.every((x) => x !== undefined) ? (100 * xs.reduce((s, x) => s + x!, 0)) / xs.length : null;
  };
  const m = candidates.find((c) => valueOf(c) !== null) ?? candidates[0];
  const where = ref.table.kind === 'clip_benchmark' ? `dataset ${m.name}, ${m.from.join(' and ')}` : `column${m.from.length > 1 ? 's' : ''} ${m.from.join(' and ')}`;
  return { value: valueOf(m), metric: m.metric, their: m.name, source: `${publishedFileName(ref.table)}, row ${row.key}, ${where}`, protocol: kind.protocol, note: m.note, comparable: m.comparable };
}

/** Why a published number is not subtracted from ours, or null where it is. */
export function notSubtractedReason(cell: PublishedCell, ourMetric: MetricId): string | null {
  if (cell.value === null) return 'no published value in this row';
  if (!cell.comparable) return 'not comparable';
  if (cell.metric !== ourMetric) return `their metric stands for ${cell.metric ?? 'none of ours'}, ours is ${ourMetric}`;
  return null;
}

/**
 * Ours − theirs in points where the two may be subtracted, else null. Rounded to 1e-9 points, as the paper's deltas.
 * @example publishedDelta(64.5, 'top1', { value: 63.32, metric: 'top1', comparable: true, … }) // → ≈1.18
 */
export function publishedDelta(ours: number, ourMetric: MetricId, cell: PublishedCell): number | null {
  if (notSubtractedReason(cell, ourMetric) !== null) return null;
  return Math.round((ours - cell.value!) * 1e9) / 1e9;
}

/**
 * The lookup the report's matrix can colour its Δ cells from: per (model name, clip-bench dataset), the published
 * cell, or null where the model has no row or the file nothing for the dataset.
 */
export function publishedLookup(ref: PublishedReference): (modelName: string, dataset: string) => PublishedCell | null {
  return (modelName, dataset) => {
    const match = publishedRowFor(ref, modelName);
    return match.row ? publishedCell(ref, match.row, dataset) : null;
  };
}
