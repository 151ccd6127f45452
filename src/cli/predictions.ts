import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { openDb, type Db } from '../store/db.js';
import { iterateQueries, readImages } from '../store/retrieval.js';
import { getRun, isRetrievalRun, iteratePredictions, type RunRecord } from '../store/runs.js';
import { OPTIONS } from './options.js';
import { stdoutClosed } from './output.js';

export const predictionsCommand = {
  command: 'predictions',
  describe: 'Print the per-sample predictions of a run; for a retrieval run, one line per query (each caption retrieving images, each image retrieving captions) with its rank and top-10.',
  builder: (y: Argv) =>
    y
      .options({
        run: { type: 'number', demandOption: true, describe: 'Run id, as printed by `clip-bench eval` and listed by `clip-bench runs`.' },
        db: OPTIONS.db,
        format: { choices: ['jsonl'] as const, default: 'jsonl' as const, describe: 'Output format: one JSON object per line.' },
      })
      .example('$0 predictions --run 1 --format jsonl | head -3', 'The first three predictions of run 1.'),
  handler: (a: { run: number; db: string }) => {
    const db = openDb(a.db, { readonly: true });
    try {
      const run = getRun(db, a.run, a.db);
      if (isRetrievalRun(run)) {
        writeQueries(db, run);
        return;
      }
      for (const p of iteratePredictions(db, a.run)) {
        if (stdoutClosed()) break; // `| head`: the reader has what it wanted
        const line = {
          index: p.idx,
          key: p.key,
          label: p.label,
          top5: p.top5,
          top5_logits: p.top5Logits,
          ...(p.confidence != null ? { confidence: p.confidence } : {}),
          ...(p.targets ? { targets: [...p.targets] } : {}),
          ...(p.error ? { error: p.error } : {}),
        };
        process.stdout.write(JSON.stringify(line) + '\n');
      }
    } finally {
      db.close();
    }
  },
};

/**
 * A retrieval run's queries as JSONL: `{"query": "text"|"image", "index", "key", "caption"?, "rank", "top10"}`,
 * `status` added where the query is not a scored one (its image failed, or was excluded), and a failed image's
 * own query says why (`error`). A run not ranked
 * (a shard, or unfinished) is refused rather than printed empty.
 */
function writeQueries(db: Db, run: RunRecord): void {
  if (run.status !== 'finished' || run.shard) {
    throw new UsageError(`run ${run.id} is ${run.shard ? `shard ${run.shard} of a retrieval run` : `a retrieval run that is ${run.status}`}: its queries are ranked only over every image`, {
      fix: run.shard ? 'merge the shard DBs (`clip-bench merge`) and export the merged run' : 'finish it first (rerun its eval command)',
    });
  }
  const errors = new Map(readImages(db, run.id).flatMap((im) => (im.error ? [[im.idx, im.error] as const] : [])));
  for (const q of iterateQueries(db, run.id)) {
    if (stdoutClosed()) break;
    const error = q.query === 'image' ? errors.get(q.idx) : undefined;
    const line = { query: q.query, index: q.idx, key: q.key, ...(q.caption !== null ? { caption: q.caption } : {}), rank: q.rank, top10: q.top10, ...(q.status !== 'scored' ? { status: q.status } : {}), ...(error ? { error } : {}) };
    process.stdout.write(JSON.stringify(line) + '\n');
  }
}
