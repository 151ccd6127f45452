import type { Argv } from 'yargs';
import { summarisePredictions } from '../eval/zero-shot.js';
import { openDb } from '../store/db.js';
import { mergeShardRuns } from '../store/merge.js';
import { OPTIONS } from './options.js';

export const mergeCommand = {
  command: 'merge <dbs..>',
  describe: 'Combine the shard DBs of `eval --shard i/n` runs into one DB holding one whole-split run per series, with metrics recomputed from all predictions.',
  builder: (y: Argv) =>
    y
      .positional('dbs', { type: 'string', array: true, demandOption: true, describe: 'Shard databases.' })
      .options({
        into: { type: 'string', demandOption: true, describe: 'Database to write the merged runs into (created if missing).' },
        json: OPTIONS.json,
      })
      .example('$0 merge shard-*.sqlite --into results/all.sqlite', 'Merge every shard of a fan-out run.'),
  handler: (a: { dbs: string[]; into: string; json: boolean }) => {
    const sources = a.dbs.map((file) => ({ file, db: openDb(file, { readonly: true }) }));
    const into = openDb(a.into);
    try {
      const merged = mergeShardRuns(sources, into, summarisePredictions);
      if (a.json) process.stdout.write(JSON.stringify(merged) + '\n');
      else for (const m of merged) process.stdout.write(`run ${m.runId} in ${a.into}: ${m.shards} shards merged (${m.from.map((f) => `${f.file}#${f.runId}`).join(', ')})\n`);
    } finally {
      for (const s of sources) s.db.close();
      into.close();
    }
  },
};
