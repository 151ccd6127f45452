/**
 * clip-bench's dataset ids and CLIP_benchmark's names for the same datasets, both ways
 * (configs/datasets/clip-benchmark-datasets.json). Read on first use, never at import time.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.js';

export const CLIP_BENCHMARK_DATASETS_FILE = path.join(packageRoot, 'configs', 'datasets', 'clip-benchmark-datasets.json');

interface NamesFile {
  datasets: Record<string, { name: string; aliases?: string[]; note?: string }>;
  not_comparable: Record<string, string>;
  no_counterpart: Record<string, string>;
}

let cached: NamesFile | undefined;
const names = (): NamesFile => (cached ??= JSON.parse(readFileSync(CLIP_BENCHMARK_DATASETS_FILE, 'utf8')) as NamesFile);

/** CLIP_benchmark's name for one of our datasets, or why it has none. */
export function clipBenchmarkName(datasetId: string): { name: string; note: string | null } | { name: null; why: string } {
  const d = names().datasets[datasetId];
  if (d) return { name: d.name, note: d.note ?? null };
  return { name: null, why: names().no_counterpart[datasetId] ?? `clip-bench dataset ${datasetId} has no CLIP_benchmark name in ${path.basename(CLIP_BENCHMARK_DATASETS_FILE)}` };
}

/**
 * Our dataset id for one of CLIP_benchmark's names (a `wds/` prefix stripped, as cli.py does), with the note
 * to show beside its numbers; `dataset: null` where we have no such dataset or theirs is not comparable.
 * @example clipBenchIdOf('wds/vtab/flowers') // → { dataset: 'flowers102', note: null }
 * @example clipBenchIdOf('voc2007') // → { dataset: null, note: 'not comparable: CLIP_benchmark's voc2007 is accuracy on box crops, …' }
 */
export function clipBenchIdOf(theirName: string): { dataset: string | null; note: string | null } {
  const bare = theirName.startsWith('wds/') ? theirName.slice(4) : theirName;
  const n = names();
  if (Object.hasOwn(n.not_comparable, bare)) return { dataset: null, note: `not comparable: ${n.not_comparable[bare]}` };
  for (const [id, d] of Object.entries(n.datasets)) {
    if (d.name === bare || d.aliases?.includes(bare)) return { dataset: id, note: d.note ?? null };
  }
  return { dataset: null, note: null };
}
