/**
 * Combining shard DBs (`--shard i/n` runs, one DB per machine or pod) into one run per identity whose
 * predictions and metrics equal the unsharded run's: the shards' predictions carry global sample
 * indices, so the union is the whole split, and metrics are recomputed from it.
 */
import { UsageError } from '../errors.js';
import type { Db } from './db.js';
import { createRun, finishRun, insertPredictions, iteratePredictions, listRuns, type RunRecord } from './runs.js';

export interface MergeSource {
  file: string;
  db: Db;
}

export interface MergedRun {
  runId: number;
  identity: string;
  shards: number;
  from: { file: string; runId: number; shard: string }[];
}

function parseShardLabel(s: string): { index: number; count: number } {
  const [index, count] = s.split('/').map(Number);
  return { index, count };
}

/**
 * Merges every complete set of finished shard runs found in `sources` into `into`, in one transaction.
 * Of a shard run twice, the later one counts. An incomplete set is an error naming the missing shards.
 * @param summarise recomputes n/top-1/top-5 and the metrics object from the merged predictions
 */
export function mergeShardRuns(
  sources: readonly MergeSource[],
  into: Db,
  summarise: (db: Db, runId: number) => { n: number; nFailed: number; top1: number; top5: number | null; metrics: Record<string, unknown> },
): MergedRun[] {
  const groups = new Map<string, { file: string; db: Db; run: RunRecord }[]>();
  for (const s of sources) {
    for (const run of listRuns(s.db, { status: 'finished' })) {
      if (!run.shard || !run.identity) continue;
      const g = groups.get(run.identity) ?? [];
      g.push({ ...s, run });
      groups.set(run.identity, g);
    }
  }
  if (groups.size === 0) {
    throw new UsageError('no finished shard runs in the given databases', { fix: 'run `clip-bench eval … --shard i/n --db FILE` for every shard first' });
  }
  return into.transaction(() =>
    [...groups.entries()].map(([identity, runs]) => {
      const count = parseShardLabel(runs[0].run.shard!).count;
      const byIndex = new Map<number, (typeof runs)[number]>();
      for (const r of runs) {
        const { index, count: c } = parseShardLabel(r.run.shard!);
        if (c !== count) throw new UsageError(`shards of one run disagree on the shard count (${count} and ${c})`, { file: r.file, fix: 'merge shards of one --shard i/n series only' });
        const prev = byIndex.get(index);
        if (!prev || prev.run.createdAt < r.run.createdAt) byIndex.set(index, r);
      }
      const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
      if (missing.length) {
        const r = runs[0].run;
        throw new UsageError(`${r.modelName} on ${r.dataset}/${r.split}: shards ${missing.map((i) => `${i}/${count}`).join(', ')} are missing or unfinished`, {
          fix: 'finish those shards and pass their databases too',
        });
      }
      const parts = [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
      const first = parts[0].run;
      const runId = createRun(into, { ...first, identity, shard: null, params: { ...first.params, mergedFrom: parts.map((p) => ({ file: p.file, runId: p.run.id, shard: p.run.shard })) } });
      for (const p of parts) insertPredictions(into, runId, [...iteratePredictions(p.db, p.run.id)]);
      const s = summarise(into, runId);
      const timings: Record<string, number> = {};
      for (const p of parts) for (const [k, v] of Object.entries(p.run.timings ?? {})) timings[k] = (timings[k] ?? 0) + v;
      finishRun(into, runId, { ...s, timings });
      return { runId, identity, shards: count, from: parts.map((p) => ({ file: p.file, runId: p.run.id, shard: p.run.shard! })) };
    }),
  )();
}
