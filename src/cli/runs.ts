import type { Argv } from 'yargs';
import { runListing, runListingText } from '../report/run-list.js';
import { openDb } from '../store/db.js';
import { OPTIONS } from './options.js';

export const runsCommand = {
  command: 'runs',
  describe: 'List the runs in the results DB: id, status, model, dataset and root, split, prompts, samples done of planned, start time and metrics; for an unfinished run, the command that continues it.',
  builder: (y: Argv) =>
    y
      .options({
        db: OPTIONS.db,
        json: { ...OPTIONS.json, describe: 'Print a JSON array, one object per run, instead of the table.' },
      })
      .example('$0 runs', 'Every run in results/clip-bench.sqlite.')
      .example('$0 runs --db shard-2.sqlite --json', 'The runs of a shard DB, as JSON.'),
  handler: (a: { db: string; json: boolean }) => {
    const db = openDb(a.db, { readonly: true });
    try {
      const runs = runListing(db, a.db);
      process.stdout.write(a.json ? JSON.stringify(runs, null, 2) + '\n' : runListingText(runs));
    } finally {
      db.close();
    }
  },
};
