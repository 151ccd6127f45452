import type { Argv } from 'yargs';
import { accuracyTableCsv, accuracyTableJson, accuracyTableMarkdown, buildAccuracyTable } from '../report/accuracy-table.js';
import { openDb } from '../store/db.js';
import { listRuns } from '../store/runs.js';
import { OPTIONS } from './options.js';
import { emit } from './output.js';

export type ReportFormat = 'md' | 'csv' | 'json';

export function renderReport(dbFile: string, format: ReportFormat): string {
  const db = openDb(dbFile, { readonly: true });
  try {
    const table = buildAccuracyTable(listRuns(db));
    return format === 'md' ? accuracyTableMarkdown(table) : format === 'csv' ? accuracyTableCsv(table) : accuracyTableJson(table);
  } finally {
    db.close();
  }
}

export const reportCommand = {
  command: 'report',
  describe: 'Render the model × dataset accuracy table from the results DB.',
  builder: (y: Argv) =>
    y
      .options({
        db: OPTIONS.db,
        format: { choices: ['md', 'csv', 'json'] as const, default: 'md' as const, describe: 'Markdown for people, CSV (one row per cell) for spreadsheets, JSON for programs.' },
        out: OPTIONS.out,
      })
      .example('$0 report', 'Print the table as Markdown.')
      .example('$0 report --format csv --out results/report.csv', 'Write it as CSV.'),
  handler: (a: { db: string; format: ReportFormat; out?: string }) => {
    emit(renderReport(a.db, a.format), a.out);
  },
};
