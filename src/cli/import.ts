import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { parseClipBenchmarkFile } from '../interop/clip-benchmark-read.js';
import { openDb, withDbErrors } from '../store/db.js';
import { importResults, type ImportFile, type ImportOutcome } from '../store/imported.js';
import { OPTIONS } from './options.js';

export interface ImportArgs {
  files: string[];
  db: string;
  json: boolean;
}

/** Reads and checks every file before the DB is opened: one bad file, and nothing is written. */
export function readImportFiles(files: readonly string[]): ImportFile[] {
  return files.map((f) => {
    let bytes: Buffer;
    try {
      bytes = readFileSync(f);
    } catch (err) {
      throw new UsageError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: f, fix: 'pass existing CLIP_benchmark result files (JSON or benchmark.csv)' });
    }
    const { format, records } = parseClipBenchmarkFile(bytes.toString('utf8'), f);
    return { source: path.resolve(f), sha256: createHash('sha256').update(bytes).digest('hex'), format, records };
  });
}

const line = (o: ImportOutcome) =>
  `${o.status === 'unchanged' ? 'already imported, nothing added' : o.status === 'replaced' ? 'imported (replacing this path\'s earlier content)' : 'imported'}: ${o.source} (sha256 ${o.sha256.slice(0, 12)}): ${o.records} result${o.records === 1 ? '' : 's'}, ${o.values} value${o.values === 1 ? '' : 's'}`;

export const importCommand = {
  command: 'import <files..>',
  describe: "Read CLIP_benchmark result files (its per-run JSON, or the benchmark.csv its `build` writes) into the results DB as imported results: shown by `report` in their own section, marked as not measured here.",
  builder: (y: Argv) =>
    y
      .positional('files', { type: 'string', array: true, describe: 'CLIP_benchmark result JSON files and/or benchmark.csv files.' })
      .options({ db: OPTIONS.db, json: OPTIONS.json })
      .example('$0 import results/*.json', 'Import the per-run JSON files CLIP_benchmark (or `clip-bench eval --output`) wrote.')
      .example('$0 import benchmark/benchmark.csv', "Import CLIP_benchmark's published benchmark table."),
  handler: (a: ImportArgs) => {
    const files = readImportFiles(a.files);
    const db = openDb(a.db);
    let outcomes: ImportOutcome[];
    try {
      outcomes = withDbErrors(a.db, () => importResults(db, files));
    } finally {
      db.close();
    }
    process.stdout.write(a.json ? JSON.stringify({ db: a.db, files: outcomes }) + '\n' : outcomes.map(line).join('\n') + '\n');
  },
};
