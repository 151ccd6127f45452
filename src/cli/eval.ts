import { signed } from '../report/accuracy-table.js';
import { existsSync } from 'node:fs';
import type { Argv } from 'yargs';
import { DATASETS } from '../datasets/index.js';
import { isRetrievalDataset, RETRIEVAL_DATASETS } from '../datasets/retrieval/index.js';
import { UsageError, unknownName } from '../errors.js';
import type { EvalProgress } from '../eval/engine.js';
import { parseRecallK, runRetrieval, type RetrievalResult } from '../eval/retrieval.js';
import { parseShard, RunInterrupted, runZeroShot, type EvalResult } from '../eval/zero-shot.js';
import { DEFAULT_DB, dbUsageError, openDb, type Db } from '../store/db.js';
import { getRun } from '../store/runs.js';
import { loadCheckpoint } from '../models/checkpoint.js';
import type { ExecutionProvider, SessionOptions } from '../models/onnx-session.js';
import { filterSourceLine, type PreprocessConvention } from '../models/preprocess/index.js';
import { describeLink } from '../models/scoring-link.js';
import { paperCell } from '../report/paper.js';
import { publishedSection, publishedSectionMarkdown, publishedSectionRow, type PublishedSection } from '../report/published-section.js';
import { isPublishedReference, publishedReferenceFromFlags } from '../references/published-reference.js';
import type { MetricId } from '../eval/metric-ids.js';
import { RETRIEVAL_HEADLINE } from '../eval/retrieval-metrics.js';
import { retrievalReference, retrievalReferenceCells } from '../report/retrieval-paper.js';
import { retrievalReferenceJson, retrievalReferenceLines, type RetrievalRunView } from '../report/retrieval-section.js';
import { shellWord } from '../report/run-list.js';
import { normaliseLanguage } from '../prompts/language.js';
import { checkOutputTemplate, OUTPUT_OPTION, writeClipBenchmarkOutput } from './clip-benchmark-output.js';
import { clipBenchmarkName } from '../interop/clip-benchmark-names.js';
import { OPTIONS, RUN_OPTIONS } from './options.js';
import { progressBar } from './progress.js';

export interface EvalArgs {
  model?: string;
  name?: string;
  dataset?: string;
  root?: string;
  split?: string;
  prompts?: string;
  db: string;
  'batch-size': number;
  limit?: number;
  workers: number;
  threads: number;
  variant?: string;
  provider: ExecutionProvider;
  'graph-optimization': SessionOptions['graphOptimization'];
  convention: PreprocessConvention;
  language?: string;
  'logit-scale'?: number;
  'logit-bias'?: number;
  reference?: string;
  'reference-file'?: string;
  cache: boolean;
  resume?: number;
  shard?: string;
  quiet: boolean;
  'exclude-failures': boolean;
  'recall-k'?: string;
  'caption-prefix'?: string;
  tokenizer?: string;
  /** CLIP_benchmark result JSON file or template (clip-benchmark-output.ts) */
  output?: string;
  json: boolean;
  /** not a flag: `suite` sets it, so that a finished run of the same identity is returned instead of made again */
  skipFinished?: boolean;
}

/** Checks across flags, pure so it can be tested without running anything. Returns the problem or null. */
export function checkEvalArgs(a: Partial<EvalArgs>): string | null {
  for (const flag of ['model', 'dataset', 'root'] as const) if (!a[flag]) return `--${flag} is required`;
  if (a.name !== undefined && !a.name.trim()) return '--name must not be empty';
  const positive = (v: number | undefined) => v === undefined || (Number.isInteger(v) && v > 0);
  if (!positive(a['batch-size'])) return `--batch-size must be a positive integer, got ${a['batch-size']}`;
  if (!positive(a.limit)) return `--limit must be a positive integer, got ${a.limit}`;
  if (!positive(a.workers)) return `--workers must be a positive integer, got ${a.workers}`;
  if (a.threads !== undefined && !(Number.isInteger(a.threads) && a.threads >= 0)) return `--threads must be 0 or a positive integer, got ${a.threads}`;
  if (a.shard !== undefined && !/^\d+\/\d+$/.test(a.shard)) return `--shard must be i/n, got ${a.shard}`;
  if (a.shard !== undefined) {
    const [i, n] = a.shard.split('/').map(Number);
    if (n < 1 || i >= n) return `--shard i/n needs 0 ≤ i < n, got ${a.shard}`;
  }
  if (a.resume !== undefined && !(Number.isInteger(a.resume) && a.resume > 0)) return `--resume takes a run id, got ${a.resume}`;
  for (const flag of ['logit-scale', 'logit-bias'] as const) if (a[flag] !== undefined && !Number.isFinite(a[flag])) return `--${flag} must be a number, got ${a[flag]}`;
  const retrieval = a.dataset !== undefined && isRetrievalDataset(a.dataset);
  if (retrieval && a.prompts !== undefined) return `--prompts is for classification; ${a.dataset} is a retrieval dataset, whose text side is its captions (see --caption-prefix)`;
  if (!retrieval) for (const flag of ['recall-k', 'caption-prefix'] as const) if (a[flag] !== undefined) return `--${flag} is for retrieval datasets (${Object.keys(RETRIEVAL_DATASETS).join(', ')}), not ${a.dataset}`;
  if (a['recall-k'] !== undefined) {
    try {
      parseRecallK(a['recall-k']);
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (a.output !== undefined && (a.limit !== undefined || a.shard !== undefined)) return `--output writes CLIP_benchmark JSON of a whole split, which has no field for part of one; leave out --${a.limit !== undefined ? 'limit' : 'shard'}`;
  return checkOutputTemplate(a.output);
}

/** Refuses an id that is neither a classification nor a retrieval dataset, with "did you mean" over both. */
export function checkDatasetId(id: string): void {
  if (!Object.hasOwn(DATASETS, id) && !isRetrievalDataset(id)) throw unknownName('dataset', id, [...Object.keys(DATASETS), ...Object.keys(RETRIEVAL_DATASETS)]);
}

/** What `eval` returns: the run, and the DB it is stored in. */
export type StoredEvalResult = EvalResult & { db: string };

export function formatEvalResult(r: EvalResult & { db?: string }): string {
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);
  const c = r.cache;
  return [
    `run ${r.runId}${r.resumed ? ' (resumed)' : ''}: ${r.model} (${r.layout}, ${r.variant}) on ${r.dataset}/${r.split}${r.shard ? ` shard ${r.shard}` : ''} with prompts "${r.promptSet}"${r.language ? ` in language ${r.language}` : ''}`,
    ...(r.nClasses !== undefined ? [`  ${r.nClasses} classes: the prompt set's part of the dataset; samples of the other classes are left out`] : []),
    ...(r.templatesFrom ? [`  note: no templates for ${r.dataset} in the language's file; its "${r.templatesFrom}" templates are used, as CLIP_benchmark does`] : []),
    `  top-1 ${pct(r.top1)}   top-5 ${pct(r.top5)}${r.headline === 'top1' ? '' : `   ${r.headline} ${pct(r.headlineValue)} (the paper's metric)`}   over ${r.n} samples` +
      (r.nFailed ? (r.excludeFailures ? ` (${r.nFailed} failed to decode and are excluded)` : ` (${r.nFailed} failed to decode, counted as wrong)`) : ''),
    `  ${r.timings.totalSeconds.toFixed(1)} s in all (${r.timings.imageSeconds.toFixed(1)} s images, ${r.timings.textSeconds.toFixed(1)} s prompts); ` +
      `cache: ${c.imageHits} of ${c.imageHits + c.imageMisses} images and ${c.textHits} of ${c.textHits + c.textMisses} prompts reused`,
    ...(r.preprocessing ? [`  preprocessing: ${filterSourceLine(r.preprocessing.interpolation, r.preprocessing.sources)}`] : []),
    `  confidence: ${describeLink(r.scoring)}`,
    ...(r.db ? [`  stored as run ${r.runId} in ${r.db} (\`clip-bench predictions --run ${r.runId}${dbFlag(r.db)}\`, \`clip-bench runs${dbFlag(r.db)}\`)`] : []),
  ].join('\n');
}

/** What `eval` returns for a retrieval dataset: the run, and the DB it is stored in. */
export type StoredRetrievalResult = RetrievalResult & { db: string };

const RETRIEVAL_DIRECTIONS = [
  { words: 'text→image', prefix: 'image_retrieval' },
  { words: 'image→text', prefix: 'text_retrieval' },
] as const;

/** The run in words: both directions named, the counts with the captions-per-image note, failures and truncation said. */
export function formatRetrievalResult(r: RetrievalResult & { db?: string }): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const s = r.summary;
  const c = r.cache;
  const lines = [
    `run ${r.runId}${r.resumed ? ' (resumed)' : ''}: ${r.model} (${r.layout}, ${r.variant}) retrieval on ${r.dataset}/${r.split}${r.language ? ` in ${r.language}` : ''}${r.shard ? ` shard ${r.shard}` : ''}, read from ${r.layoutFound}`,
    `  ${r.description}${r.countNote ? `; note: ${r.countNote}` : ''}`,
  ];
  if (s.ranked) {
    for (const d of RETRIEVAL_DIRECTIONS) {
      const recalls = r.recallK.map((k) => `R@${k} ${pct(s.values[`${d.prefix}_recall@${k}`])}`).join('   ');
      lines.push(`  ${d.words}  ${recalls}   mean rank ${s.values[`${d.prefix}_mean_rank`].toFixed(2)}, median ${s.values[`${d.prefix}_median_rank`]}`);
    }
    lines.push(`  mean_recall@1 ${pct(s.values['mean_recall@1'])} (½ of both R@1, the headline) over ${s.nImages} images and ${s.nCaptions} captions`);
  } else {
    lines.push(`  ${s.nImages} of this shard's images embedded and stored; ranks need every image: merge the shard DBs with \`clip-bench merge\` to rank them`);
  }
  if (s.nFailedImages) {
    lines.push(
      r.excludeFailures
        ? `  ${s.nFailedImages} image${s.nFailedImages === 1 ? '' : 's'} failed (missing or undecodable) and ${s.nFailedImages === 1 ? 'is' : 'are'} excluded with ${s.ranked ? 'its captions' : 'their captions'}`
        : `  ${s.nFailedImages} image${s.nFailedImages === 1 ? '' : 's'} failed (missing or undecodable), counted as misses${s.ranked ? ` with ${s.nFailedCaptions} caption${s.nFailedCaptions === 1 ? '' : 's'}` : ''} (\`clip-bench predictions --run ${r.runId}\` names them)`,
    );
  }
  lines.push(`  captions${r.captionPrefix ? ` prefixed with ${JSON.stringify(r.captionPrefix)}` : ' as written (no prefix)'}; ${r.nTruncatedCaptions} longer than the ${r.contextLength}-token context and truncated`);
  lines.push(
    `  ${r.timings.totalSeconds.toFixed(1)} s in all (${r.timings.imageSeconds.toFixed(1)} s images and ranking, ${r.timings.textSeconds.toFixed(1)} s captions); ` +
      `cache: ${c.imageHits} of ${c.imageHits + c.imageMisses} images and ${c.textHits} of ${c.textHits + c.textMisses} captions reused`,
  );
  if (r.db) lines.push(`  stored as run ${r.runId} in ${r.db} (\`clip-bench predictions --run ${r.runId}${dbFlag(r.db)}\`: one line per query, \`clip-bench runs${dbFlag(r.db)}\`)`);
  return lines.join('\n');
}

/** `eval --json` for a retrieval run. */
export function retrievalJson(r: StoredRetrievalResult): Record<string, unknown> {
  const s = r.summary;
  return {
    runId: r.runId,
    task: 'retrieval',
    dataset: r.dataset,
    split: r.split,
    model: r.model,
    variant: r.variant,
    shard: r.shard,
    resumed: r.resumed,
    n_images: s.nImages,
    n_captions: s.nCaptions,
    n_failed_images: s.nFailedImages,
    n_failed_captions: s.nFailedCaptions,
    failures_excluded: r.excludeFailures,
    n_truncated_captions: r.nTruncatedCaptions,
    caption_prefix: r.captionPrefix,
    language: r.language,
    recall_k: r.recallK,
    layout_found: r.layoutFound,
    description: r.description,
    ranked: s.ranked,
    metrics: s.ranked ? s.values : null,
    timings: r.timings,
    cache: r.cache,
    db: r.db,
  };
}

/** A ranked retrieval result as the report section's view, with the paper's Table 13 cells for `reference`; undefined for a shard. */
export function retrievalResultView(r: StoredRetrievalResult, reference: string): RetrievalRunView | undefined {
  const s = r.summary;
  if (!s.ranked) return undefined;
  return {
    runId: r.runId,
    model: r.model,
    dataset: r.dataset,
    rootLabel: '',
    split: r.split,
    nImages: s.nImages,
    nCaptions: s.nCaptions,
    failedImages: [], // eval's own lines say which failed and how they count
    failureRule: r.excludeFailures ? 'exclude' : 'miss',
    captionPrefix: r.captionPrefix,
    ...(r.language ? { language: r.language } : {}),
    metrics: s.values,
    reference: retrievalReference(reference, r.dataset),
  };
}

/** ` --db FILE`, or nothing for the default DB. */
export function dbFlag(db: string): string {
  return db === DEFAULT_DB ? '' : ` --db ${shellWord(db)}`;
}


/**
 * `--resume N` names a run of an existing DB: checked before anything is opened for writing, so a wrong id or
 * --db leaves no new (empty) DB behind and changes nothing in an existing one.
 */
function checkResumeTarget(file: string, runId: number): void {
  if (!existsSync(file)) {
    throw new UsageError(`no run ${runId}: the results database does not exist`, { file, fix: 'pass --db with the database the run is in (`clip-bench runs --db FILE` lists its runs), or leave out --resume' });
  }
  const db = openDb(file, { readonly: true });
  try {
    const run = getRun(db, runId);
    if (run.status === 'finished') throw new UsageError(`run ${runId} is already finished`, { fix: 'nothing to resume; `clip-bench report` shows it' });
  } catch (err) {
    throw err instanceof UsageError && !err.file ? new UsageError(err.message, { file, fix: err.fix, cause: err }) : err;
  } finally {
    db.close();
  }
}

export const evalCommand = {
  command: 'eval',
  describe: 'Zero-shot classify a dataset with a CLIP checkpoint, or run zero-shot retrieval on flickr30k, flickr8k or mscoco (both directions, recall@k), and record the run in the results DB.',
  builder: (y: Argv) =>
    y
      .options({
        model: { ...OPTIONS.model, demandOption: true },
        name: OPTIONS.name,
        dataset: { ...OPTIONS.dataset, demandOption: true },
        root: { ...OPTIONS.root, demandOption: true },
        split: OPTIONS.split,
        prompts: OPTIONS.prompts,
        ...RUN_OPTIONS,
        resume: OPTIONS.resume,
        shard: OPTIONS.shard,
        'recall-k': OPTIONS['recall-k'],
        'caption-prefix': OPTIONS['caption-prefix'],
        reference: { type: 'string', describe: 'Paper model to compare with (RN50, RN101, ViT-B/32, ViT-B/16, ViT-L/14, ViT-L/14@336px): prints the paper\'s number for this dataset beside ours; on a retrieval dataset Table 13\'s six recalls (ViT-L/14@336px on flickr30k and mscoco), other models or datasets say the paper has none. Or openclip:ARCH/tag with --reference-file: that published row instead of the model\'s own.' },
        'reference-file': OPTIONS['reference-file'],
        output: OUTPUT_OPTION,
        json: OPTIONS.json,
      })
      .check((a) => {
        const problem = checkEvalArgs(a as unknown as EvalArgs);
        if (problem) throw new UsageError(problem);
        return true;
      })
      .example('$0 eval --model fixtures/demo/toy-clip --dataset imagefolder --root fixtures/demo/colours --prompts colours', 'Evaluate the demo model on the demo images.')
      .example('$0 eval --model ~/models/ViT-B-32__openai --dataset imagefolder --root ~/data/imagenet/val --limit 1000 --json', 'A quick 1000-image check, printed as JSON.')
      .example('$0 eval ... --shard 2/8 --db shard-2.sqlite', 'One of eight shards; combine them with `clip-bench merge`.')
      .example('$0 eval --model ~/models/ViT-B-32__openai --dataset mscoco --root ~/data/coco --caption-prefix "a photo of "', "MSCOCO 5k retrieval both ways, with the paper's caption prefix.")
      .example('$0 eval --model ~/models/ViT-B-32__openai --dataset cifar10 --root ~/data/cifar10 --output "{dataset}_{pretrained}_{model}_{language}_{task}.json"', "Also write CLIP_benchmark's result JSON (cifar10_openai_ViT-B-32_en_zeroshot_classification.json)."),
  handler: async (a: EvalArgs) => {
    checkDatasetId(a.dataset!);
    // a wrong reference file or an unknown published row fails before the run, not after
    const published = publishedReferenceFromFlags(a.reference, a['reference-file']);
    const paperReference = isPublishedReference(a.reference) ? undefined : a.reference;
    const beside = (model: string, dataset: string, ours: number, metric: MetricId) =>
      published ? publishedSection(published, [publishedSectionRow(published, model, model, [{ label: dataset, dataset, ours, metric }])]) : undefined;
    const besideLines = (s: PublishedSection | undefined) => (s ? ['', ...publishedSectionMarkdown(s)] : []);
    if (a.output !== undefined) {
      const their = clipBenchmarkName(a.dataset!); // refused before the run, not after
      if (their.name === null) throw new UsageError(`--output: ${their.why}`, { fix: 'leave out --output for this dataset' });
    }
    const written = (runId: number) => (a.output === undefined ? null : writeClipBenchmarkOutput(a.db, runId, a.output));
    const outputLines = (w: ReturnType<typeof written>) => (w ? [`  wrote CLIP_benchmark JSON ${w.file}`, ...(w.note ? [`  ${w.note}`] : [])] : []);
    if (isRetrievalDataset(a.dataset!)) {
      if (paperReference) retrievalReferenceCells(paperReference, a.dataset!); // an unknown paper model fails before the run, not after
      const r = await retrievalAndReport(a);
      const w = written(r.runId);
      const view = paperReference ? retrievalResultView(r, paperReference) : undefined;
      const headline = r.summary.values[RETRIEVAL_HEADLINE];
      const section = headline === undefined ? undefined : beside(r.model, r.dataset, 100 * headline, RETRIEVAL_HEADLINE);
      if (a.json) {
        process.stdout.write(JSON.stringify({ ...retrievalJson(r), ...(w ? { clip_benchmark_output: w.file } : {}), ...(view ? { reference: retrievalReferenceJson(view) } : {}), ...(section ? { published: section } : {}) }) + '\n');
        return;
      }
      const paper = paperReference ? (view ? retrievalReferenceLines(view) : [`  paper ${paperReference}: a shard has no ranks yet; merge the shards (\`clip-bench merge\`) and see \`clip-bench report --reference ${paperReference}\``]) : [];
      process.stdout.write([formatRetrievalResult(r), ...paper, ...besideLines(section), ...outputLines(w)].join('\n') + '\n');
      return;
    }
    if (paperReference) paperCell('imagenet', paperReference); // an unknown paper model fails before the run, not after
    const result = await evalAndReport(a);
    const w = written(result.runId);
    const reference = paperReference ? compareWithPaper(result, paperReference) : undefined;
    const section = beside(result.model, result.dataset, 100 * (result.headlineValue ?? result.top1), result.headlineValue === null ? 'top1' : result.headline);
    if (a.json) {
      const out = { task: 'classification', ...result, ...(w ? { clip_benchmark_output: w.file } : {}) };
      process.stdout.write(JSON.stringify({ ...out, ...(reference ? { reference } : {}), ...(section ? { published: section } : {}) }) + '\n');
      return;
    }
    process.stdout.write([formatEvalResult(result), ...(reference ? [formatPaperComparison(reference)] : []), ...besideLines(section), ...outputLines(w)].join('\n') + '\n');
  },
};

export interface PaperComparison {
  model: string;
  dataset: string;
  /** percent, or null where the paper has no number for this dataset */
  paper: number | null;
  verified: boolean | null;
  ours: number;
  delta: number | null;
}

/** Our headline metric (the paper's for this dataset) beside the paper's number for the same dataset and paper model, in percent. */
export function compareWithPaper(r: Pick<EvalResult, 'dataset' | 'top1' | 'headlineValue'>, model: string): PaperComparison {
  const cell = paperCell(r.dataset, model);
  const ours = 100 * (r.headlineValue ?? r.top1);
  return { model, dataset: r.dataset, paper: cell?.value ?? null, verified: cell?.verified ?? null, ours, delta: cell ? ours - cell.value : null };
}

export function formatPaperComparison(c: PaperComparison): string {
  if (c.paper === null) return `  paper: no ${c.model} number for ${c.dataset}`;
  return `  paper ${c.model}: ${c.paper.toFixed(1)}%${c.verified ? '' : ' (unverified cell)'}   ours ${c.ours.toFixed(2)}%   Δ ${signed(c.delta!)} points`;
}

/**
 * Runs one evaluation as the CLI does: the DB opened (and created) only once the inputs and model have been
 * checked; SIGINT/SIGTERM stop it between batches, marked interrupted (a second signal exits at once); the
 * progress bar on stderr.
 */
async function runFromCli<T>(a: EvalArgs, textStage: string, run: (open: () => Db, signal: AbortSignal, onProgress: (p: EvalProgress) => void) => Promise<T>): Promise<T & { db: string }> {
  if (a.resume !== undefined) checkResumeTarget(a.db, a.resume);
  let db: Db | undefined;
  const openRunDb = () => (db = openDb(a.db));
  const bar = progressBar(process.stderr, a.quiet ? 'quiet' : 'auto');
  const controller = new AbortController();
  const stop = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(sig === 'SIGINT' ? 130 : 143);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const result = await run(openRunDb, controller.signal, (p) => bar.update(p.stage === 'text' ? textStage : 'images', p.done, p.total));
    return { ...result, db: a.db };
  } catch (err) {
    if (err instanceof RunInterrupted) {
      bar.done();
      throw new UsageError(`${err.message}; finished samples are saved`, {
        fix: `run the same command again to continue (or add --resume ${err.runId})`,
        exitCode: 130,
      });
    }
    throw dbUsageError(err, a.db) ?? err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    bar.done();
    db?.close();
  }
}

/** The engine options `eval`'s flags give, whatever the task. */
function engineOptions(a: EvalArgs, signal: AbortSignal) {
  return {
    modelDir: a.model!,
    name: a.name,
    skipFinished: a.skipFinished,
    root: a.root!,
    split: a.split,
    batchSize: a['batch-size'],
    limit: a.limit,
    workers: a.workers,
    variant: a.variant,
    session: { intraOpThreads: a.threads, executionProvider: a.provider, graphOptimization: a['graph-optimization'] },
    preprocessConvention: a.convention,
    tokenizer: a.tokenizer,
    scoring: { logitScale: a['logit-scale'], logitBias: a['logit-bias'] },
    cache: a.cache,
    resume: a.resume,
    shard: a.shard ? parseShard(a.shard) : undefined,
    signal,
    excludeFailures: a['exclude-failures'],
    language: a.language === undefined ? undefined : normaliseLanguage(a.language),
  };
}

/** Loads the model as a run would and releases it: a model that cannot load (a broken ONNX) fails here, once, not on every dataset. */
export async function checkModelLoads(a: EvalArgs): Promise<{ fingerprint: string; variant: string }> {
  const o = engineOptions(a, new AbortController().signal);
  const ckpt = await loadCheckpoint(o.modelDir, { variant: o.variant, session: o.session, preprocessConvention: o.preprocessConvention, language: o.language, scoring: o.scoring, tokenizer: o.tokenizer });
  await ckpt.release();
  return { fingerprint: ckpt.fingerprint, variant: ckpt.variant };
}

/** A classification run (`suite`, `ablation` and `demo` call it too). */
export async function evalAndReport(a: EvalArgs): Promise<StoredEvalResult> {
  checkDatasetId(a.dataset!); // an unknown dataset fails before anything else
  if (isRetrievalDataset(a.dataset!)) {
    throw new UsageError(`${a.dataset} is a retrieval dataset, which this command does not run yet`, { fix: `run it with \`clip-bench eval --dataset ${a.dataset} …\`` });
  }
  return runFromCli(a, 'prompts', (open, signal, onProgress) => runZeroShot(open, { ...engineOptions(a, signal), dataset: a.dataset!, prompts: a.prompts }, onProgress));
}

/** A retrieval run: flickr30k, flickr8k or mscoco. */
export async function retrievalAndReport(a: EvalArgs): Promise<StoredRetrievalResult> {
  const recallK = a['recall-k'] === undefined ? undefined : parseRecallK(a['recall-k']);
  return runFromCli(a, 'captions', (open, signal, onProgress) =>
    runRetrieval(open, { ...engineOptions(a, signal), dataset: a.dataset!, recallK, captionPrefix: a['caption-prefix'] }, onProgress),
  );
}
