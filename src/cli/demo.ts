import path from 'node:path';
import type { Argv } from 'yargs';
import { DEMO_PROMPTS, writeDemo } from '../fixtures/demo.js';
import { OPTIONS } from './options.js';
import { evalAndReport, formatEvalResult } from './eval.js';
import { writeAtomic } from './output.js';
import { buildAccuracyTable, matrixMarkdown } from '../report/accuracy-table.js';
import { openDb } from '../store/db.js';
import { listRuns } from '../store/runs.js';
import { renderReport } from './report.js';

export const demoCommand = {
  command: 'demo',
  describe: 'Run the whole pipeline on the embedded demo: a toy CLIP and a colour dataset generated on the spot.',
  builder: (y: Argv) =>
    y
      .options({
        dir: { type: 'string', default: path.join('fixtures', 'demo'), describe: 'Folder to write the demo model and images into.' },
        db: OPTIONS.db,
        report: { type: 'string', default: path.join('results', 'report.md'), describe: 'Markdown report to write after the run.' },
        html: { type: 'string', default: path.join('results', 'report.html'), describe: 'HTML report (one self-contained page with plots) to write after the run.' },
        workers: OPTIONS.workers,
        json: OPTIONS.json,
      })
      .example('$0 demo', 'Generate the demo, evaluate it, print the accuracy table and write the Markdown and HTML reports.'),
  handler: async (a: { dir: string; db: string; report: string; html: string; workers: number; json: boolean }) => {
    const paths = await writeDemo(a.dir);
    const result = await evalAndReport({
      model: paths.model,
      dataset: 'imagefolder',
      root: paths.root,
      prompts: DEMO_PROMPTS,
      db: a.db,
      'batch-size': 32,
      workers: a.workers,
      threads: 0,
      provider: 'cpu',
      'graph-optimization': 'all',
      convention: 'reference',
      cache: true,
      quiet: false,
      'exclude-failures': false,
      json: a.json,
    });
    writeAtomic(a.report, renderReport(a.db, 'md'));
    writeAtomic(a.html, renderReport(a.db, 'html'));
    if (a.json) {
      process.stdout.write(JSON.stringify({ ...result, report: a.report, html: a.html, db: a.db }) + '\n');
      return;
    }
    const db = openDb(a.db, { readonly: true });
    const matrix = matrixMarkdown(buildAccuracyTable(listRuns(db))).join('\n');
    db.close();
    process.stdout.write(`${formatEvalResult(result)}\n\n${matrix}\n\nreports written to ${a.report} and ${a.html}; results in ${a.db}\n`);
  },
};
