/**
 * Combining shard DBs (`--shard i/n` runs, one DB per machine or pod) into one run per identity whose
 * predictions and metrics equal the unsharded run's: the shards' predictions carry global sample
 * indices, so the union is the whole split, and metrics are recomputed from it.
 */
import { UsageError } from '../errors.js';
import type { Db } from './db.js';
import { insertCaptions, insertImages, readCaptions, readImages } from './retrieval.js';
import { createRun, finishRun, insertPredictions, isRetrievalRun, iteratePredictions, listRuns, type RunRecord } from './runs.js';

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

type ShardPart = { file: string; db: Db; run: RunRecord };

/** One whole-split run to write: its identity and its shards in order. */
export interface MergePlan {
  identity: string;
  shards: number;
  parts: ShardPart[];
}

/**
 * Finds every complete set of finished shard runs in `sources`, reading only. Of a shard run twice, the later
 * one counts. No shard run at all, or an incomplete set, is an error naming the missing shards — raised
 * before any database is written or created.
 */
export function planShardMerge(sources: readonly MergeSource[]): MergePlan[] {
  const groups = new Map<string, ShardPart[]>();
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
  return [...groups.entries()].map(([identity, runs]) => {
    const count = parseShardLabel(runs[0].run.shard!).count;
    const byIndex = new Map<number, ShardPart>();
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
    return { identity, shards: count, parts: [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r) };
  });
}

/**
 * Writes planned merges into `into`, in one transaction.
 * @param summarise recomputes n/top-1/top-5 and the metrics object from the merged predictions (or, for a
 *   retrieval run, stores the ranking made beforehand from the shards' rows: see src/eval/merge-runs.ts)
 */
export function writeShardMerge(plans: readonly MergePlan[], into: Db, summarise: Summarise): MergedRun[] {
  return into.transaction(() =>
    plans.map(({ identity, shards, parts }) => {
      const first = parts[0].run;
      const mergedFrom = parts.map((p) => ({ file: p.file, runId: p.run.id, shard: p.run.shard }));
      let runId: number;
      if (isRetrievalRun(first)) {
        // every shard holds all the run's captions (its identity fixes them) and its own images
        runId = createRun(into, { ...first, identity, shard: null, params: { ...first.params, nSamples: first.params.nImages, mergedFrom } });
        insertCaptions(into, runId, readCaptions(parts[0].db, parts[0].run.id));
        for (const p of parts) insertImages(into, runId, readImages(p.db, p.run.id));
      } else {
        runId = createRun(into, { ...first, identity, shard: null, params: { ...first.params, mergedFrom } });
        for (const p of parts) insertPredictions(into, runId, [...iteratePredictions(p.db, p.run.id)]);
      }
      const s = summarise(into, runId);
      const timings: Record<string, number> = {};
      for (const p of parts) for (const [k, v] of Object.entries(p.run.timings ?? {})) timings[k] = (timings[k] ?? 0) + v;
      finishRun(into, runId, { ...s, timings });
      return { runId, identity, shards, from: parts.map((p) => ({ file: p.file, runId: p.run.id, shard: p.run.shard! })) };
    }),
  )();
}

type Summarise = (db: Db, runId: number) => { n: number; nFailed: number; top1: number | null; top5: number | null; metrics: Record<string, unknown> };

/** Merges every complete set of finished shard runs found in `sources` into `into`: {@link planShardMerge}, then {@link writeShardMerge}. */
export function mergeShardRuns(sources: readonly MergeSource[], into: Db, summarise: Summarise): MergedRun[] {
  return writeShardMerge(planShardMerge(sources), into, summarise);
}
