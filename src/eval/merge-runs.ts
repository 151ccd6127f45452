/**
 * Merging shard DBs of either task into whole-split runs: classification runs are summarised from their
 * merged predictions; retrieval runs are ranked from their shards' images and captions first (onnxruntime
 * is asynchronous, the merge's write transaction is not), then written with the merged rows.
 */
import type { Db } from '../store/db.js';
import { planShardMerge, writeShardMerge, type MergedRun, type MergeSource } from '../store/merge.js';
import { readCaptions, readImages, replaceQueries } from '../store/retrieval.js';
import { getRun, isRetrievalRun } from '../store/runs.js';
import { rankRows, type RankedRun } from './retrieval.js';
import { summarisePredictions } from './zero-shot.js';

/** Merges every complete set of finished shard runs in `sources` into `into`; nothing is written when a set is incomplete. */
export async function mergeShards(sources: readonly MergeSource[], into: () => Db): Promise<{ merged: MergedRun[]; db: Db }> {
  const plans = planShardMerge(sources);
  const ranked = new Map<string, RankedRun>();
  for (const plan of plans) {
    const first = plan.parts[0].run;
    if (!isRetrievalRun(first)) continue;
    const images = plan.parts.flatMap((p) => readImages(p.db, p.run.id));
    const params = { recallK: first.params.recallK as number[], excludeFailures: first.params.excludeFailures === true };
    ranked.set(plan.identity, await rankRows(images, readCaptions(plan.parts[0].db, first.id), params));
  }
  const db = into();
  const merged = writeShardMerge(plans, db, (d, runId) => {
    const r = ranked.get(getRun(d, runId).identity);
    if (!r) return summarisePredictions(d, runId);
    replaceQueries(d, runId, r.queries);
    return r.summary;
  });
  return { merged, db };
}
