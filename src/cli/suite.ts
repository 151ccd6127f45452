import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Argv } from 'yargs';
import { requireDirectory } from '../datasets/imagefolder.js';
import { UsageError } from '../errors.js';
import { isRetrievalDataset } from '../datasets/retrieval/index.js';
import { RETRIEVAL_HEADLINE } from '../eval/retrieval-metrics.js';
import { parseRecallK } from '../eval/retrieval.js';
import { entryName, entryPaperKey, findSuiteDatasets, formatSuiteTable, loadSuite, runSuite, suiteTable, type Suite, type SuiteEvent, type SuiteOutcome, type SuiteResult, type SuiteTable } from '../eval/suite.js';
import { formatSuiteMatrix, suiteMatrix, type ModelSuite } from '../eval/suite-matrix.js';
import { detectLayout } from '../models/layout.js';
import { checkDistinctModels, modelsDirFolders, readModelsFile, splitModelsList } from '../models/model-folders.js';
import { folderModelName, parseModelName } from '../models/model-name.js';
import { paperCell } from '../report/paper.js';
import { publishedSection, publishedSectionMarkdown, publishedSectionRow, type PublishedSectionRow } from '../report/published-section.js';
import { isPublishedReference, publishedReferenceFromFlags, type PublishedReference } from '../references/published-reference.js';
import { checkEvalArgs, checkModelLoads, evalAndReport, retrievalAndReport, type EvalArgs, type StoredRetrievalResult } from './eval.js';
import { OUTPUT_OPTION, writeSuiteOutput } from './clip-benchmark-output.js';
import { ensureCost } from './suite-cost.js';
import { OPTIONS, RUN_OPTIONS } from './options.js';

export interface SuiteArgs extends Omit<EvalArgs, 'dataset' | 'root' | 'split' | 'prompts' | 'resume' | 'shard'> {
  suite: string;
  'data-root': string;
  models?: string;
  'models-from'?: string;
  'models-dir'?: string;
  /** measure each model's cost (`clip-bench cost`) where the DB has none for this machine */
  cost?: boolean;
}

/** The flags that say which models run: exactly one of them. */
const MODEL_FLAGS = ['model', 'models', 'models-from', 'models-dir'] as const;

/** Exit code of a suite where some (model, dataset) pairs failed: the others ran and are in the output. */
export const SOME_FAILED_EXIT = 3;

/** Checks across flags: eval's own checks, with the per-dataset flags supplied by the suite. */
export function checkSuiteArgs(a: Partial<SuiteArgs>): string | null {
  const given = MODEL_FLAGS.filter((f) => a[f] !== undefined);
  if (given.length !== 1) return given.length ? `give one of ${given.map((f) => `--${f}`).join(' and ')}, not both` : '--model (or --models, --models-from, --models-dir) is required';
  if (a.name !== undefined && a.model === undefined) return '--name names the single --model; with many models each is named by its folder';
  for (const flag of ['suite', 'data-root'] as const) if (!a[flag]) return `--${flag} is required`;
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
  return checkEvalArgs({ ...rest, model: a.model ?? 'many', dataset: 'suite', root: a['data-root'] });
}

/** A model the suite runs: its folder and its name in the DB and the output. */
export interface SuiteModel {
  dir: string;
  name: string;
}

/**
 * The models of `--models`, `--models-from` or `--models-dir`, every folder checked to exist (and, for
 * `--models-dir`, to be a model) before any work. `--model` gives one model named `--name` or its folder.
 */
export function suiteModels(a: Partial<SuiteArgs>): { models: SuiteModel[]; skipped: string[] } {
  const named = (dirs: string[], file?: string) => {
    const models = dirs.map((dir) => ({ dir: path.resolve(dir), name: folderModelName(dir) }));
    checkDistinctModels(models, file);
    return models;
  };
  if (a.model !== undefined) return { models: [{ dir: path.resolve(a.model), name: a.name ?? folderModelName(a.model) }], skipped: [] };
  if (a['models-from'] !== undefined) return { models: named(readModelsFile(a['models-from']), a['models-from']), skipped: [] };
  if (a['models-dir'] !== undefined) {
    const found = modelsDirFolders(a['models-dir']);
    return { models: named(found.models, a['models-dir']), skipped: found.skipped };
  }
  const dirs = splitModelsList(a.models ?? '');
  if (dirs.length === 0) throw new UsageError('--models lists no model folder', { fix: 'pass --models DIR1,DIR2' });
  const missing = dirs.find((d) => !existsSync(d));
  if (missing) throw new UsageError('model folder not found', { file: missing, fix: 'fix that folder in the --models list' });
  return { models: named(dirs), skipped: [] };
}

/** One stderr line per dataset: which one starts, and how it ended; `model` prefixes it when several models run. */
function progressLine(e: SuiteEvent, model = ''): string {
  const at = `${model}[${e.index}/${e.total}] ${entryName(e.entry)}`;
  if (e.kind === 'start') return `${at}: ${e.entry.dataset} from ${e.root}`;
  if (e.kind === 'failed') return `${at}: failed: ${e.reason}`;
  const r = e.result;
  const value = r.headlineValue ?? r.top1;
  const score = `${r.headlineValue === null ? 'top1' : r.headline} ${(100 * value).toFixed(2)}% over ${r.n} samples`;
  return r.doneEarlier ? `${at}: done earlier (run ${r.runId}): ${score}` : `${at}: ${score} (run ${r.runId})`;
}

/** A retrieval run as a suite row: its headline, mean_recall@1, over its images. */
function suiteRowOfRetrieval(r: StoredRetrievalResult): SuiteResult {
  const headline = r.summary.values[RETRIEVAL_HEADLINE];
  // a suite run is never a shard, so it is always ranked; `top1` is only the suite's fallback where a headline is missing
  return { runId: r.runId, doneEarlier: r.doneEarlier, dataset: r.dataset, split: r.split, promptSet: r.captionPrefix ? `captions with prefix ${JSON.stringify(r.captionPrefix)}` : 'captions', n: r.summary.nImages, nFailed: r.summary.nFailedImages, top1: headline, headline: RETRIEVAL_HEADLINE, headlineValue: headline };
}

/**
 * One model's suite: every dataset found under the data root, through `eval`'s own runs, a pair finished
 * earlier in the DB returned as it is. Per-model options of the suite belong here.
 */
export function runModelSuite(a: SuiteArgs, model: SuiteModel, suite: Suite, dataRoot: string, onEvent?: (e: SuiteEvent) => void): Promise<SuiteOutcome> {
  const run = { ...a, model: model.dir, name: model.name, skipFinished: true };
  return runSuite(
    suite,
    dataRoot,
    (entry, root) =>
      isRetrievalDataset(entry.dataset)
        ? retrievalAndReport({ ...run, dataset: entry.dataset, root, split: entry.split, language: entry.language }).then(suiteRowOfRetrieval)
        : evalAndReport({ ...run, dataset: entry.dataset, root, split: entry.split, prompts: entry.prompts }),
    (e) => {
      onEvent?.(e);
      // CLIP_benchmark's per-run JSON (--output TEMPLATE) after each pair, a pair done earlier too
      if (e.kind === 'done') writeSuiteOutput(a.db, e.result.runId, a.output, (l) => process.stderr.write(l + '\n'));
    },
  );
}

/**
 * One model's suite beside its published row: each row looked up by the dataset it stands for, the suite entry's
 * paper key (an ImageFolder of CIFAR-10) or its adapter id.
 */
function suitePublishedRow(ref: PublishedReference, model: string, outcome: SuiteOutcome, table: SuiteTable): PublishedSectionRow {
  const ours = outcome.ran.map(({ entry }, i) => ({ label: table.rows[i].name, dataset: entryPaperKey(entry) ?? entry.dataset, ours: table.rows[i].ours, metric: table.rows[i].metric }));
  return publishedSectionRow(ref, model, model, ours);
}

/** Every dataset of the suite missing under the data root: a usage error before any model loads. */
function requireSomeDataset(suite: Suite, dataRoot: string, given: string): void {
  const { found, skipped } = findSuiteDatasets(suite, dataRoot);
  if (found.length > 0) return;
  throw new UsageError(`none of the ${suite.datasets.length} datasets of suite ${suite.id} is under the data root (looked for e.g. ${skipped[0].looked.join(', ')})`, {
    file: given,
    fix: 'pass --data-root with the folder that holds the dataset folders the suite names',
  });
}

/** `--cost`: the model's cost measured unless stored earlier; the reason where it could not be, else undefined. */
function measuredCost(a: SuiteArgs, m: SuiteModel, loaded: { fingerprint: string; variant: string }, say: (line: string) => void): string | undefined {
  say('cost: measuring (clip-bench cost) unless stored earlier for this machine …');
  const r = ensureCost(a, m.dir, loaded);
  say(r.status === 'failed' ? r.reason : `cost: ${r.status}`);
  return r.status === 'failed' ? r.reason : undefined;
}

/** Many models, one after another: a model that does not load is recorded with its reason and the rest go on. */
async function runManyModels(
  a: SuiteArgs,
  models: SuiteModel[],
  suite: Suite,
  dataRoot: string,
  paperReference: string | undefined,
  published: PublishedReference | null,
): Promise<(ModelSuite & { failure?: string; costFailure?: string; published?: PublishedSectionRow })[]> {
  const say = (line: string) => {
    if (!a.quiet) process.stderr.write(line + '\n');
  };
  const out: (ModelSuite & { failure?: string; costFailure?: string; published?: PublishedSectionRow })[] = [];
  for (const [i, m] of models.entries()) {
    const at = `model ${i + 1}/${models.length} ${m.name} `;
    const parsed = parseModelName(m.name);
    const base = { model: m.name, dir: m.dir, architecture: parsed.architecture, pretrained: parsed.pretrained };
    let loaded: { fingerprint: string; variant: string };
    try {
      loaded = await checkModelLoads({ ...a, model: m.dir }); // the layout, the files, the sessions: what every dataset would need
    } catch (err) {
      if (!(err instanceof UsageError) || err.exitCode === 130) throw err;
      say(`${at}failed: ${err.oneLine()}`);
      out.push({ ...base, table: null, failure: err.oneLine() });
      continue;
    }
    const cost = a.cost ? measuredCost(a, m, loaded, (l) => say(`${at}${l}`)) : undefined;
    const outcome = await runModelSuite(a, m, suite, dataRoot, (e) => say(progressLine(e, at)));
    const table = suiteTable(outcome, paperReference);
    out.push({ ...base, table, ...(cost ? { costFailure: cost } : {}), ...(published ? { published: suitePublishedRow(published, m.name, outcome, table) } : {}) });
  }
  return out;
}

export const suiteCommand = {
  command: 'suite',
  describe: 'Evaluate every dataset of a suite found under one data root with one model or many, and print our headline numbers beside the paper\'s. Exit code 3: some (model, dataset) pairs failed (listed at the end); the others ran.',
  builder: (y: Argv) =>
    y
      .options({
        model: { ...OPTIONS.model, describe: `${OPTIONS.model.describe} One model; --models, --models-from or --models-dir run many (give one of the four).` },
        name: { ...OPTIONS.name, describe: `${OPTIONS.name.describe} Only with a single --model.` },
        models: { type: 'string', describe: 'Model folders, comma-separated (DIR1,DIR2,…): every one runs every dataset of the suite, and a model × dataset matrix is printed.' },
        'models-from': { type: 'string', describe: 'A text file listing model folders, one per line (# starts a comment, blank lines are ignored, relative paths are read from the file\'s folder); a line naming no folder stops the suite before any work.' },
        'models-dir': { type: 'string', describe: 'Every model folder found at most 2 levels under this folder, e.g. an Immich model cache (DIR/clip/ViT-B-32__openai/); folders that are not models are skipped, and the models found are listed first.' },
        suite: { type: 'string', demandOption: true, describe: 'Suite id from configs/suites (e.g. paper-zero-shot, the paper\'s 27 datasets) or a JSON file listing {"dataset", "dirs", "split"?, "prompts"?, "paper"?, "name"?} entries.' },
        'data-root': { type: 'string', demandOption: true, describe: 'Folder under which each dataset of the suite is looked for, by the folder names the suite lists; datasets not found are skipped and listed.' },
        reference: { type: 'string', describe: 'Paper model to compare with (RN50, RN101, ViT-B/32, ViT-B/16, ViT-L/14, ViT-L/14@336px): adds the paper\'s number, the difference and their means. Or openclip:ARCH/tag (e.g. openclip:ViT-B-32/laion2b_s34b_b79k) with --reference-file: that published row instead of the model\'s own.' },
        'reference-file': OPTIONS['reference-file'],
        ...RUN_OPTIONS,
        'recall-k': OPTIONS['recall-k'],
        'caption-prefix': OPTIONS['caption-prefix'],
        limit: { ...OPTIONS.limit, describe: 'Score only this many samples of each dataset, spread evenly over its split (for quick checks).' },
        output: OUTPUT_OPTION,
        cost: { type: 'boolean', default: false, describe: "Also measure each model's cost on this machine (clip-bench cost, in a process of its own: throughput, latency, peak RSS, size, parameters, FLOPs) where the DB has none yet, so that `report` plots accuracy against it. Run it on an idle machine." },
        json: { ...OPTIONS.json, describe: 'Print one JSON object instead of text: with --model the suite\'s table; with many models {"models": [{model, dir, architecture, pretrained, table}], "matrix", "failures": [{model, dataset (null where the model did not load), reason}], …}.' },
      })
      .check((a) => {
        const problem = checkSuiteArgs(a as unknown as SuiteArgs);
        if (problem) throw new UsageError(problem);
        return true;
      })
      .example('$0 suite --model ~/models/ViT-B-32__openai --suite paper-zero-shot --data-root ~/data --reference ViT-B/32', 'Every paper dataset found under ~/data, beside the paper\'s ViT-B/32 numbers.')
      .example('$0 suite --models-dir ~/immich/model-cache --suite paper-zero-shot --data-root ~/data --reference-file openclip_results.csv', "Every CLIP model of an Immich model cache on every paper dataset, each beside open_clip's published row for its folder's name (ViT-B-32__openai → ViT-B-32/openai); run it again to continue where it stopped.")
      .example('$0 suite --models-from models.txt --suite my-suite.json --data-root ~/data --limit 500 --json', 'A quick check of the models listed in models.txt on your own suite, printed as JSON.'),
  handler: async (a: SuiteArgs) => {
    // Mistakes that would fail every dataset alike stop the suite before it starts.
    const published = publishedReferenceFromFlags(a.reference, a['reference-file']);
    const paperReference = isPublishedReference(a.reference) ? undefined : a.reference;
    if (paperReference) paperCell('imagenet', paperReference);
    const suite = loadSuite(a.suite);
    await requireDirectory(a['data-root'], 'data root');
    const dataRoot = path.resolve(a['data-root']);
    requireSomeDataset(suite, dataRoot, a['data-root']);
    const { models, skipped } = suiteModels(a);
    if (a.model !== undefined) {
      detectLayout(a.model, a.variant);
      const costFailure = a.cost ? measuredCost(a, models[0], await checkModelLoads(a), (l) => (a.quiet ? undefined : process.stderr.write(l + '\n'))) : undefined;
      const outcome = await runModelSuite(a, models[0], suite, dataRoot, (e) => {
        if (!a.quiet) process.stderr.write(progressLine(e) + '\n');
      });
      const table = suiteTable(outcome, paperReference);
      const section = published ? publishedSection(published, [suitePublishedRow(published, models[0].name, outcome, table)]) : undefined;
      if (a.json) process.stdout.write(JSON.stringify(section ? { ...table, published: section } : table) + '\n');
      else process.stdout.write(formatSuiteTable(table) + '\n' + (section ? '\n' + publishedSectionMarkdown(section).join('\n') + '\n' : ''));
      if (costFailure) process.stderr.write(`${costFailure}\n`);
      if (table.failed.length || costFailure) process.exitCode = SOME_FAILED_EXIT;
      return;
    }
    if (!a.quiet) {
      process.stderr.write(`${models.length} model${models.length === 1 ? '' : 's'}:\n${models.map((m) => `  ${m.name} (${m.dir})`).join('\n')}\n`);
      if (skipped.length) process.stderr.write(`not model folders, skipped (${skipped.length}): ${skipped.map((d) => path.relative(path.resolve(a['models-dir']!), d)).join(', ')}\n`);
    }
    const results = await runManyModels(a, models, suite, dataRoot, paperReference, published);
    const matrix = suiteMatrix(results, { id: suite.id, of: suite.datasets.length }, dataRoot, paperReference ?? null);
    const section = published ? publishedSection(published, results.flatMap((r) => (r.published ? [r.published] : []))) : undefined;
    const json = { suite: suite.id, dataRoot, reference: a.reference ?? null, models: results.map(({ failure: _failure, costFailure: _costFailure, published: _published, ...m }) => m), matrix: { columns: matrix.columns, rows: matrix.rows, mean: matrix.mean, groups: matrix.groups }, failures: matrix.failures, skipped: matrix.skipped, ...(section ? { published: section } : {}) };
    process.stdout.write(a.json ? JSON.stringify(json) + '\n' : formatSuiteMatrix(matrix) + '\n' + (section ? '\n' + publishedSectionMarkdown(section).join('\n') + '\n' : ''));
    if (matrix.failures.length) process.exitCode = SOME_FAILED_EXIT;
  },
};
