import { existsSync, rmSync } from 'node:fs';
import type { Argv } from 'yargs';
import { mergeShards } from '../eval/merge-runs.js';
import { openDb, type Db } from '../store/db.js';
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
  handler: async (a: { dbs: string[]; into: string; json: boolean }) => {
    const sources: { file: string; db: Db }[] = [];
    let into: Db | undefined;
    const isNew = !existsSync(a.into);
    try {
      for (const file of a.dbs) sources.push({ file, db: openDb(file, { readonly: true }) });
      // Planned (and retrieval runs ranked) from the shards alone: a missing or unfinished shard creates no --into file and changes none.
      let merged;
      try {
        ({ merged } = await mergeShards(sources, () => (into = openDb(a.into))));
      } catch (err) {
        // the transaction rolled back; a DB this command created holds nothing, so it goes too
        if (into) {
          into.close();
          into = undefined;
          if (isNew) for (const f of [a.into, `${a.into}-wal`, `${a.into}-shm`]) rmSync(f, { force: true });
        }
        throw err;
      }
      if (a.json) process.stdout.write(JSON.stringify(merged) + '\n');
      else for (const m of merged) process.stdout.write(`run ${m.runId} in ${a.into}: ${m.shards} shards merged (${m.from.map((f) => `${f.file}#${f.runId}`).join(', ')})\n`);
    } finally {
      for (const s of sources) s.db.close();
      into?.close();
    }
  },
};
