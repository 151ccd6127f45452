import path from 'node:path';
import type { Argv } from 'yargs';
import { requireDirectory } from '../datasets/imagefolder.js';
import { UsageError } from '../errors.js';
import { isRetrievalDataset } from '../datasets/retrieval/index.js';
import { RETRIEVAL_HEADLINE } from '../eval/retrieval-metrics.js';
import { parseRecallK } from '../eval/retrieval.js';
import { entryName, formatSuiteTable, loadSuite, runSuite, suiteTable, type SuiteEvent, type SuiteResult } from '../eval/suite.js';
import { detectLayout } from '../models/layout.js';
import { paperCell } from '../report/paper.js';
import { checkEvalArgs, evalAndReport, retrievalAndReport, type EvalArgs, type StoredRetrievalResult } from './eval.js';
import { OUTPUT_OPTION, writeSuiteOutput } from './clip-benchmark-output.js';
import { OPTIONS, RUN_OPTIONS } from './options.js';

export interface SuiteArgs extends Omit<EvalArgs, 'dataset' | 'root' | 'split' | 'prompts' | 'resume' | 'shard'> {
  suite: string;
  'data-root': string;
}

/** Checks across flags: eval's own checks, with the per-dataset flags supplied by the suite. */
export function checkSuiteArgs(a: Partial<SuiteArgs>): string | null {
  for (const flag of ['model', 'suite', 'data-root'] as const) if (!a[flag]) return `--${flag} is required`;
  // --recall-k and --caption-prefix apply to the suite's retrieval datasets only; the cut-offs are checked here
  const recallK = a['recall-k'];
  const rest: Partial<EvalArgs> = { ...(a as Partial<EvalArgs>), 'recall-k': undefined, 'caption-prefix': undefined };
  if (recallK !== undefined) {
    try {
      parseRecallK(recallK);
    } catch (err) {
      return (err as Error).message;
    }
  }
  return checkEvalArgs({ ...rest, dataset: 'suite', root: a['data-root'] });
}

/** One stderr line per dataset: which one starts, and how it ended. */
function progressLine(e: SuiteEvent): string {
  const at = `[${e.index}/${e.total}] ${entryName(e.entry)}`;
  if (e.kind === 'start') return `${at}: ${e.entry.dataset} from ${e.root}`;
  if (e.kind === 'failed') return `${at}: failed: ${e.reason}`;
  const r = e.result;
  const value = r.headlineValue ?? r.top1;
  return `${at}: ${r.headlineValue === null ? 'top1' : r.headline} ${(100 * value).toFixed(2)}% over ${r.n} samples (run ${r.runId})`;
}

/** A retrieval run as a suite row: its headline, mean_recall@1, over its images. */
function suiteRowOfRetrieval(r: StoredRetrievalResult): SuiteResult {
  const headline = r.summary.values[RETRIEVAL_HEADLINE];
  // a suite run is never a shard, so it is always ranked; `top1` is only the suite's fallback where a headline is missing
  return { runId: r.runId, dataset: r.dataset, split: r.split, promptSet: r.captionPrefix ? `captions with prefix ${JSON.stringify(r.captionPrefix)}` : 'captions', n: r.summary.nImages, nFailed: r.summary.nFailedImages, top1: headline, headline: RETRIEVAL_HEADLINE, headlineValue: headline };
}

export const suiteCommand = {
  command: 'suite',
  describe: 'Evaluate every dataset of a suite found under one data root, and print our headline numbers beside the paper\'s.',
  builder: (y: Argv) =>
    y
      .options({
        model: { ...OPTIONS.model, demandOption: true },
        suite: { type: 'string', demandOption: true, describe: 'Suite id from configs/suites (e.g. paper-zero-shot, the paper\'s 27 datasets) or a JSON file listing {"dataset", "dirs", "split"?, "prompts"?, "paper"?, "name"?} entries.' },
        'data-root': { type: 'string', demandOption: true, describe: 'Folder under which each dataset of the suite is looked for, by the folder names the suite lists; datasets not found are skipped and listed.' },
        reference: { type: 'string', describe: 'Paper model to compare with (RN50, RN101, ViT-B/32, ViT-B/16, ViT-L/14, ViT-L/14@336px): adds the paper\'s number, the difference and their means.' },
        ...RUN_OPTIONS,
        'recall-k': OPTIONS['recall-k'],
        'caption-prefix': OPTIONS['caption-prefix'],
        limit: { ...OPTIONS.limit, describe: 'Score only this many samples of each dataset, spread evenly over its split (for quick checks).' },
        output: OUTPUT_OPTION,
        json: OPTIONS.json,
      })
      .check((a) => {
        const problem = checkSuiteArgs(a as unknown as SuiteArgs);
        if (problem) throw new UsageError(problem);
        return true;
      })
      .example('$0 suite --model ~/models/ViT-B-32__openai --suite paper-zero-shot --data-root ~/data --reference ViT-B/32', 'Every paper dataset found under ~/data, beside the paper\'s ViT-B/32 numbers.')
      .example('$0 suite --model DIR --suite my-suite.json --data-root ~/data --limit 500 --json', 'A quick check of your own suite, printed as JSON.'),
  handler: async (a: SuiteArgs) => {
    // Mistakes that would fail every dataset alike stop the suite before it starts.
    if (a.reference) paperCell('imagenet', a.reference);
    const suite = loadSuite(a.suite);
    await requireDirectory(a['data-root'], 'data root');
    detectLayout(a.model!, a.variant);
    const outcome = await runSuite(
      suite,
      path.resolve(a['data-root']),
      (entry, root) =>
        isRetrievalDataset(entry.dataset)
          ? retrievalAndReport({ ...a, dataset: entry.dataset, root, split: entry.split, language: entry.language }).then(suiteRowOfRetrieval)
          : evalAndReport({ ...a, dataset: entry.dataset, root, split: entry.split, prompts: entry.prompts }),
      (e) => {
        if (!a.quiet) process.stderr.write(progressLine(e) + '\n');
        if (e.kind === 'done') writeSuiteOutput(a.db, e.result.runId, a.output, (l) => process.stderr.write(l + '\n'));
      },
    );
    if (outcome.ran.length + outcome.failed.length === 0) {
      throw new UsageError(`none of the ${suite.datasets.length} datasets of suite ${suite.id} is under the data root (looked for e.g. ${outcome.skipped[0].looked.join(', ')})`, {
        file: a['data-root'],
        fix: 'pass --data-root with the folder that holds the dataset folders the suite names',
      });
    }
    const table = suiteTable(outcome, a.reference);
    process.stdout.write(a.json ? JSON.stringify(table) + '\n' : formatSuiteTable(table) + '\n');
  },
};
