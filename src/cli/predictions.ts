import type { Argv } from 'yargs';
import { openDb } from '../store/db.js';
import { getRun, iteratePredictions } from '../store/runs.js';
import { OPTIONS } from './options.js';
import { stdoutClosed } from './output.js';

export const predictionsCommand = {
  command: 'predictions',
  describe: 'Print the per-sample predictions of a run.',
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
      getRun(db, a.run, a.db);
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
