import { existsSync, rmSync } from 'node:fs';
import type { Argv } from 'yargs';
import { mergeShards } from '../eval/merge-runs.js';
import { openDb, type Db } from '../store/db.js';
import { shardDbFiles, waitForShardDbs } from '../store/shard-files.js';
import { UsageError } from '../errors.js';
import { OPTIONS } from './options.js';

export interface MergeArgs {
  dbs: string[];
  into: string;
  wait?: number;
  'wait-timeout': number;
  'wait-poll': number;
  json: boolean;
}

/** Checks across flags, pure: the problem or null. */
export function checkMergeArgs(a: Partial<MergeArgs>): string | null {
  if (a.wait !== undefined && !(Number.isInteger(a.wait) && a.wait > 0)) return `--wait takes the number of shard DBs to wait for, got ${a.wait}`;
  for (const flag of ['wait-timeout', 'wait-poll'] as const) {
    const v = a[flag];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) return `--${flag} must be a positive number of seconds, got ${v}`;
  }
  return null;
}

export const mergeCommand = {
  command: 'merge <dbs..>',
  describe: 'Combine the shard DBs of `eval --shard i/n` runs into one DB holding one whole-split run per series, with metrics recomputed from all predictions.',
  builder: (y: Argv) =>
    y
      .positional('dbs', { type: 'string', array: true, demandOption: true, describe: 'Shard databases, or folders whose *.sqlite files are shard databases (the --into file is left out).' })
      .options({
        into: { type: 'string', demandOption: true, describe: 'Database to write the merged runs into (created if missing).' },
        wait: { type: 'number', describe: 'First wait until this many complete shard DBs (each holding a finished shard run) are there, polling: a merge Job started with its shards runs only after every shard has finished. Only the complete ones are merged.' },
        'wait-timeout': { type: 'number', default: 86400, describe: 'With --wait: give up after this many seconds, with one line saying how many shards are complete (exit code 1).' },
        'wait-poll': { type: 'number', default: 10, describe: 'With --wait: seconds between two looks at the shard DBs.' },
        json: OPTIONS.json,
      })
      .check((a) => {
        const problem = checkMergeArgs(a as unknown as MergeArgs);
        if (problem) throw new UsageError(problem, { fix: '`clip-bench merge --help` describes each flag' });
        return true;
      })
      .example('$0 merge shard-*.sqlite --into results/all.sqlite', 'Merge every shard of a fan-out run.')
      .example('$0 merge /data/results/shards --wait 8 --into /data/results/clip-bench.sqlite', 'Wait until the 8 shard DBs of a fan-out are complete in that folder, then merge them.'),
  handler: async (a: MergeArgs) => {
    const sources: { file: string; db: Db }[] = [];
    let into: Db | undefined;
    const isNew = !existsSync(a.into);
    try {
      const files =
        a.wait === undefined
          ? shardDbFiles(a.dbs, a.into)
          : await waitForShardDbs({
              paths: a.dbs,
              into: a.into,
              count: a.wait,
              timeoutMs: a['wait-timeout'] * 1000,
              pollMs: a['wait-poll'] * 1000,
              onPoll: (s) => process.stderr.write(`clip-bench merge: ${s.complete.length} of ${a.wait} shard DBs complete, waiting\n`),
            });
      for (const file of files) sources.push({ file, db: openDb(file, { readonly: true }) });
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
