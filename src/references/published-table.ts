/**
 * The result tables users download, read as published: open_clip's wide files (one row per model, a column per
 * dataset: `docs/openclip_results.csv`, `openclip_classification_results.csv`, `openclip_retrieval_results.csv`)
 * and CLIP_benchmark's long `benchmark/benchmark.csv` (one row per model and dataset, a column per metric). The
 * kind is told by the header. Rows are keyed by `ARCH/pretrained-tag`, open_clip's two names of a checkpoint,
 * which Immich folder names (`ARCH__tag`) also encode. Their numbers are fractions; here they are kept as
 * published, and every value is checked to be one (a file already converted to percent is refused).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { csvFields } from '../datasets/fer2013.js';
import { UsageError } from '../errors.js';

export type PublishedKind = 'openclip' | 'openclip-retrieval' | 'clip_benchmark';

export interface PublishedRow {
  /** `ARCH/tag`, e.g. `ViT-B-32/laion2b_s34b_b79k` */
  key: string;
  architecture: string;
  pretrained: string;
  /**
   * the published fractions: open_clip files by column name (`CIFAR-10`), benchmark.csv by
   * `<dataset>|<metric>` (`vtab/pets|mean_per_class_recall`)
   */
  values: Map<string, number>;
}

export interface PublishedTable {
  /** the path as given */
  file: string;
  kind: PublishedKind;
  /** by key, in file order */
  rows: Map<string, PublishedRow>;
}

/** The long format's columns that are not metrics. */
const BENCHMARK_ID_COLUMNS = ['dataset', 'model', 'pretrained', 'task', 'model_fullname', 'language'];
/** The wide formats' columns that are neither the key nor a dataset's score. */
const OPENCLIP_OTHER_COLUMNS = /^(params \(M\)|FLOPs \(B\)|Average perf\. on \d+ datasets|Average score)$/;

export const EXPECTED_HEADERS =
  'open_clip\'s "name,pretrained,…,ImageNet 1k,…" (docs/openclip_results.csv, openclip_classification_results.csv), "name,pretrained,…,Flickr image retr. R@1,…" (docs/openclip_retrieval_results.csv) or CLIP_benchmark\'s "acc1,…,dataset,model,pretrained,task,…" (benchmark/benchmark.csv)';

/** The kind a header names, or null. */
export function detectPublishedKind(header: readonly string[]): PublishedKind | null {
  const has = (c: string) => header.includes(c);
  if (header[0] === 'name' && header[1] === 'pretrained') {
    if (has('ImageNet 1k')) return 'openclip';
    if (has('Flickr image retr. R@1') || has('MSCOCO image retr. R@1')) return 'openclip-retrieval';
    return null;
  }
  if (['dataset', 'model', 'pretrained', 'task'].every(has) && header.some((c) => !BENCHMARK_ID_COLUMNS.includes(c))) return 'clip_benchmark';
  return null;
}

/** A published number: empty is missing (null); anything else must be a fraction in [0, 1]. */
function fraction(text: string, file: string, where: string): number | null {
  if (text === '') return null;
  const v = Number(text);
  if (!Number.isFinite(v)) throw new UsageError(`${where} is "${text}", not a number`, { file, fix: 'pass the file as published, unedited' });
  if (v < 0 || v > 1) throw new UsageError(`${where} is ${text}, not a fraction in 0–1 as these files publish them`, { file, fix: 'pass the file as downloaded, not a copy converted to percent' });
  return v;
}

/**
 * Parses a published table's text.
 * @example parsePublishedTable('name,pretrained,ImageNet 1k\nViT-B-32,openai,0.6332\n', 'r.csv').rows.get('ViT-B-32/openai')!.values.get('ImageNet 1k') // → 0.6332
 */
export function parsePublishedTable(text: string, file: string): PublishedTable {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const fields = (line: string, n: number) => {
    try {
      return csvFields(line);
    } catch (err) {
      throw new UsageError(`line ${n}: ${(err as Error).message}`, { file, fix: 'pass the file as published, unedited' });
    }
  };
  // a first line that is not even CSV (a JSON file, say) is just as much not a published header
  let header: string[];
  try {
    header = csvFields(lines[0] ?? '');
  } catch {
    header = [(lines[0] ?? '').slice(0, 40)];
  }
  const kind = detectPublishedKind(header);
  if (!kind) {
    throw new UsageError(`not a published result table: its header is "${header.slice(0, 6).join(',')}${header.length > 6 ? ',…' : ''}", expected ${EXPECTED_HEADERS}`, {
      file,
      fix: 'pass one of those files as downloaded from the open_clip or CLIP_benchmark repository',
    });
  }
  const col = (name: string) => header.indexOf(name);
  const rows = new Map<string, PublishedRow>();
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    const n = i + 2;
    const f = fields(line, n);
    if (f.length !== header.length) throw new UsageError(`line ${n} has ${f.length} fields, the header ${header.length}`, { file, fix: 'pass the file as published, unedited' });
    const [architecture, pretrained] = kind === 'clip_benchmark' ? [f[col('model')], f[col('pretrained')]] : [f[0], f[1]];
    if (!architecture || !pretrained) throw new UsageError(`line ${n} has no model name or pretrained tag`, { file, fix: 'pass the file as published, unedited' });
    const key = `${architecture}/${pretrained}`;
    const row = rows.get(key) ?? { key, architecture, pretrained, values: new Map<string, number>() };
    rows.set(key, row);
    const put = (valueKey: string, text: string, where: string) => {
      if (row.values.has(valueKey)) throw new UsageError(`line ${n}: ${key} has ${where} a second time`, { file, fix: 'keep one row per model and dataset' });
      const v = fraction(text, file, `line ${n}, ${where}`);
      if (v !== null) row.values.set(valueKey, v);
    };
    if (kind === 'clip_benchmark') {
      const dataset = f[col('dataset')];
      header.forEach((c, j) => {
        if (!BENCHMARK_ID_COLUMNS.includes(c) && f[j] !== '') put(`${dataset}|${c}`, f[j], `${dataset} ${c}`);
      });
    } else {
      header.forEach((c, j) => {
        if (j > 1 && !OPENCLIP_OTHER_COLUMNS.test(c)) put(c, f[j], `column ${c}`);
      });
    }
  });
  return { file, kind, rows };
}

/** Reads and parses a published table (the I/O edge of this module). */
export function readPublishedTable(file: string): PublishedTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the reference file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      file,
      fix: 'pass --reference-file with a downloaded openclip_results.csv, openclip_classification_results.csv, openclip_retrieval_results.csv or benchmark.csv',
    });
  }
  return parsePublishedTable(text, file);
}

/** The file's name, as sources cite it. */
export const publishedFileName = (t: PublishedTable) => path.basename(t.file);
