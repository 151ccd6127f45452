import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { reportHtml } from '../report/html.js';
import { paperCell } from '../report/paper.js';
import { isPublishedReference, publishedReferenceFromFlags } from '../references/published-reference.js';
import { collectReport, reportCsv, reportJson, reportMarkdown, type ReportOptions } from '../report/report-data.js';
import { openDb } from '../store/db.js';
import { getRun } from '../store/runs.js';
import { clipBenchmarkCsv } from '../report/clip-benchmark-csv.js';
import { OPTIONS } from './options.js';
import { emit } from './output.js';

export type ReportFormat = 'md' | 'csv' | 'json' | 'html';

export type CsvColumns = 'clip-bench' | 'clip-benchmark';

export function renderReport(dbFile: string, format: ReportFormat, opts: ReportOptions & { csvColumns?: CsvColumns; onNote?: (line: string) => void } = {}, referenceFile?: string): string {
  // a wrong reference file, an unknown published row or paper model fails with "did you mean" before any work
  const published = publishedReferenceFromFlags(opts.reference, referenceFile);
  const reference = isPublishedReference(opts.reference) ? undefined : opts.reference;
  if (reference) paperCell('imagenet', reference);
  const db = openDb(dbFile, { readonly: true });
  try {
    const data = collectReport(db, { details: format !== 'csv', dbFile, ...opts, reference, published });
    if (format === 'csv' && opts.csvColumns === 'clip-benchmark') {
      // the runs the report shows: the table's cells, then the ranked retrieval runs
      const ids = [...data.table.runs.map((r) => r.runId), ...data.retrieval.flatMap((v) => (v.runId === undefined ? [] : [v.runId]))];
      const { csv, skipped } = clipBenchmarkCsv(ids.map((id) => getRun(db, id, dbFile)));
      for (const s of skipped) opts.onNote?.(`not in the CLIP_benchmark CSV: ${s}`);
      return csv;
    }
    return { md: reportMarkdown, csv: reportCsv, json: reportJson, html: reportHtml }[format](data);
  } finally {
    db.close();
  }
}

export interface ReportArgs {
  db: string;
  format: ReportFormat;
  out?: string;
  reference?: string;
  'reference-file'?: string;
  tolerance: number;
  'csv-columns': CsvColumns;
}

/** Checks across flags, pure so it can be tested without a DB. Returns the problem or null. */
export function checkReportArgs(a: Partial<ReportArgs>): string | null {
  if (a.format === 'html' && !a.out) return '--format html needs --out FILE (a page, not terminal output)';
  if (a['csv-columns'] === 'clip-benchmark' && a.format !== 'csv') return '--csv-columns clip-benchmark is for --format csv';
  if (a.tolerance !== undefined && !(Number.isFinite(a.tolerance) && a.tolerance >= 0)) return `--tolerance must be a number of points ≥ 0, got ${a.tolerance}`;
  return null;
}

export const reportCommand = {
  command: 'report',
  describe: 'Render the results DB: the model × dataset table of headline metrics, the paper beside it, per-run details; Markdown, CSV, JSON or one HTML page.',
  builder: (y: Argv) =>
    y
      .options({
        db: OPTIONS.db,
        format: {
          choices: ['md', 'csv', 'json', 'html'] as const,
          default: 'md' as const,
          describe: 'Markdown for people, CSV (one row per cell) for spreadsheets, JSON (with per-class accuracy, confusions, calibration) for programs, HTML (one self-contained page with plots; needs --out).',
        },
        out: OPTIONS.out,
        reference: {
          type: 'string',
          describe: "Paper model to put beside ours (RN50, RN101, ViT-B/32, ViT-B/16, ViT-L/14, ViT-L/14@336px): the paper's number, the delta, flags beyond --tolerance, unverified cells marked. Or openclip:ARCH/tag (e.g. openclip:ViT-B-32/laion2b_s34b_b79k) with --reference-file: that published row beside every model.",
        },
        'reference-file': OPTIONS['reference-file'],
        tolerance: { type: 'number', default: 1, describe: 'Deltas to the paper larger than this many points are flagged.' },
        'csv-columns': {
          choices: ['clip-bench', 'clip-benchmark'] as const,
          default: 'clip-bench' as const,
          describe: "With --format csv: clip-bench's own long format (default), or the columns CLIP_benchmark's `build` writes (acc1, acc5, mean_per_class_recall, dataset, model, pretrained, task, image_retrieval_recall@k, text_retrieval_recall@k, language, model_fullname; fractions), one row per run the report shows. Runs over part of a split and datasets CLIP_benchmark lacks are left out and named on stderr; imported results are not re-exported.",
        },
      })
      .check((a) => {
        const problem = checkReportArgs(a as unknown as ReportArgs);
        if (problem) throw new UsageError(problem);
        return true;
      })
      .example('$0 report', 'Print the table as Markdown.')
      .example('$0 report --format csv --out results/report.csv', 'Write it as CSV.')
      .example('$0 report --format csv --csv-columns clip-benchmark --out benchmark.csv', "Our runs as CLIP_benchmark's benchmark.csv.")
      .example('$0 report --format html --out results/report.html --reference ViT-B/32', 'One page: the table beside the paper, plots, per-run details.')
      .example('$0 report --reference-file openclip_results.csv', "Each model (a folder named ARCH__tag) beside its row of open_clip's published results."),
  handler: (a: ReportArgs) => {
    emit(renderReport(a.db, a.format, { reference: a.reference, tolerance: a.tolerance, csvColumns: a['csv-columns'], onNote: (l) => process.stderr.write(l + '\n') }, a['reference-file']), a.out);
  },
};
