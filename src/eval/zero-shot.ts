/**
 * Zero-shot classification: checkpoint × dataset split × prompt set → predictions and metrics in the DB.
 * The numeric core (classifier, logits, top-k) is pure; the engine (engine.ts) runs the images, caches,
 * resume, shards and interruption, and this task builds the classifier from the prompts and scores each
 * batch of image embeddings against it.
 */
import path from 'node:path';
import { getDataset, type DatasetAdapter, type Sample } from '../datasets/index.js';
import type { ClassifierPlan } from '../datasets/types.js';
import { UsageError } from '../errors.js';
import type { Checkpoint } from '../models/checkpoint.js';
import type { PreprocessConvention, PreprocessSources } from '../models/preprocess/index.js';
import { buildClassifier, groupMaxLogits } from '../prompts/classifier.js';
import { languagePromptSet, normaliseLanguage } from '../prompts/language.js';
import { datasetNames, hasNoNames, loadPromptSet, resolvePrompts, withDatasetNames, type PromptSet, type ResolvedPrompts } from '../prompts/prompt-set.js';
import type { EmbeddingCache } from '../store/cache.js';
import type { Db } from '../store/db.js';
import { finishedIndices, getRun, insertPredictions, iteratePredictions, type PredictionRow } from '../store/runs.js';
import { encodeTextsCached, runEngine, runIdentityOf, selectSamples, sha256, type EngineOptions, type EvalProgress, type EvalTask, type RunHeader } from './engine.js';
import type { MetricId } from './metric-ids.js';
import { runLink, topConfidence, type ScoringLink } from '../models/scoring-link.js';
import { topK } from './metrics.js';
import { computeRunMetrics, METRICS_VERSION, type RunMetrics } from './run-metrics.js';
import { LogitScorer } from './scorer.js';

export { parseShard, RunInterrupted, selectSamples, spreadSubset, type EvalProgress, type Shard } from './engine.js';

export interface EvalOptions extends EngineOptions {
  dataset: string;
  root: string;
  split?: string;
  /** prompt set id or file; default: the dataset's own, else `single` */
  prompts?: string;
  /** score only decoded samples; by default (as the paper) a sample that fails to decode counts as wrong */
  excludeFailures?: boolean;
}

/** The prompts of a run, with the dataset classes they cover where that is a part (Babel-ImageNet). */
export interface DatasetPrompts extends ResolvedPrompts {
  /** dataset class ids kept, in label order: the run scores only these classes' samples */
  classSubset?: string[];
}

export interface EvalResult extends RunHeader {
  dataset: string;
  split: string;
  promptSet: string;
  promptHash: string;
  /** the language of the class names and templates (`--language`); absent: the dataset's own */
  language?: string;
  /** where the templates came from when the dataset's own entry has none (CLIP_benchmark's imagenet1k fallback) */
  templatesFrom?: string;
  /** classes scored, where fewer than the dataset's (Babel-ImageNet) */
  nClasses?: number;
  n: number;
  nFailed: number;
  excludeFailures: boolean;
  top1: number;
  top5: number | null;
  headline: MetricId;
  headlineValue: number | null;
  /** the filter and where each preprocessing setting came from (absent for runs that predate it) */
  preprocessing?: { interpolation: string; sources: PreprocessSources };
  /** the link the run's confidences use */
  scoring: ScoringLink;
}

/** Encodes every prompt (each distinct text once, cached ones not at all) and averages them into the classifier. */
export async function encodeClassifier(
  ckpt: Checkpoint,
  prompts: ResolvedPrompts,
  batchSize: number,
  cache?: EmbeddingCache,
  onProgress?: (p: EvalProgress) => void,
): Promise<{ classifier: Float32Array; hits: number; misses: number }> {
  const text = await encodeTextsCached(ckpt, prompts.texts, batchSize, cache, onProgress);
  return { classifier: buildClassifier(text.embeddings, prompts.textClass, ckpt.embedDim, prompts.classNames.length), hits: text.hits, misses: text.misses };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Every metric over all predictions of a run, read back from the DB: the same however the run was split or resumed. */
export function summarisePredictions(db: Db, runId: number): RunMetrics {
  const run = getRun(db, runId);
  const headline = (run.params.headline as MetricId | undefined) ?? 'top1';
  return computeRunMetrics([...iteratePredictions(db, runId)], run.nClasses, headline, run.params.excludeFailures === true);
}

interface Prepared {
  adapter: DatasetAdapter;
  split: string;
  root: string;
  classIds: string[];
  plan?: ClassifierPlan;
  prompts: DatasetPrompts;
  language?: string;
  selected: { idx: number; sample: Sample }[];
  /** samples in the whole split, before --limit and --shard */
  splitSize: number;
}

/**
 * The prompts a run uses: the named set (`ref`), else the dataset's default, else `single`; a templates-only
 * set takes the dataset's curated names (`datasetNames`). With a `language` (normalised), CLIP_benchmark's or
 * Babel-ImageNet's files in that language where `ref` names them (src/prompts/language.ts).
 */
export function datasetPrompts(adapter: DatasetAdapter, root: string, classIds: readonly string[], plan: ClassifierPlan | undefined, ref: string | undefined, language?: string): DatasetPrompts {
  const fallback = typeof adapter.defaultPrompts === 'function' ? adapter.defaultPrompts(classIds, root) : adapter.defaultPrompts;
  const promptClassIds = plan?.promptClassIds ?? classIds;
  const chosen = languagePromptSet(ref, language, adapter.id, promptClassIds) ?? loadPromptSet(ref ?? fallback ?? 'single');
  if (chosen.classSubset) return subsetPrompts(chosen, adapter.id, classIds, plan);
  const named = hasNoNames(chosen) ? withDatasetNames(chosen, datasetNames(fallback, promptClassIds), promptClassIds) : chosen;
  return resolvePrompts(named, promptClassIds, adapter.id, { subset: plan !== undefined });
}

/**
 * A set that covers part of the dataset's classes (Babel-ImageNet): classifier rows for those classes only, in
 * the dataset's label order, as Babel-ImageNet's evaluation scores a language. Only where each dataset class is
 * its own classifier class (ImageNet, an ImageFolder of WordNet ids), never through a mapping (ObjectNet).
 */
function subsetPrompts(set: PromptSet, datasetId: string, classIds: readonly string[], plan: ClassifierPlan | undefined): DatasetPrompts {
  const identity = !plan || (plan.promptClassIds.length === classIds.length && plan.groups.every((g, i) => g.length === 1 && g[0] === i && plan.promptClassIds[i] === classIds[i]));
  if (!identity) {
    throw new UsageError(`prompt set "${set.id}" covers part of ImageNet's classes, and dataset ${datasetId} is scored through ${plan!.description}`, { file: set.source, fix: 'use it with --dataset imagenet (or an imagefolder of ImageNet WordNet-id folders)' });
  }
  const covered = new Set(set.classSubset);
  const kept = classIds.filter((id) => covered.has(id));
  if (kept.length === 0) throw new UsageError(`prompt set "${set.id}" names none of the ${classIds.length} classes of dataset ${datasetId}`, { file: set.source, fix: 'use it on ImageNet, whose classes it names by WordNet id' });
  const resolved = resolvePrompts(set, kept, datasetId, { subset: true });
  return kept.length === classIds.length ? resolved : { ...resolved, classSubset: kept };
}

/** The samples of the kept classes, relabelled to their place among them; the others left out. */
export function samplesOfClasses(all: readonly Sample[], classIds: readonly string[], kept: readonly string[]): Sample[] {
  const place = new Map(kept.map((id, i) => [id, i]));
  return all.flatMap((s) => {
    const to = place.get(classIds[s.label]);
    return to === undefined ? [] : [{ ...s, label: to }];
  });
}

/** Prompts encoded in a run's text step, per text batch (`cache warm` encodes in the same batches). */
export const PROMPT_BATCH = 256;

/** The prompts a run of `opts` encodes, read from the dataset's classes as `eval` reads them (`cache warm` uses it too). */
export async function runPrompts(opts: Pick<EvalOptions, 'dataset' | 'root' | 'split' | 'prompts' | 'language'>) {
  const adapter = getDataset(opts.dataset);
  const split = opts.split ?? adapter.splits[0];
  if (!adapter.splits.includes(split)) {
    throw new UsageError(`dataset ${adapter.id} has no split "${split}"`, { fix: `use one of: ${adapter.splits.join(', ')}` });
  }
  const root = path.resolve(opts.root);
  const language = opts.language === undefined ? undefined : normaliseLanguage(opts.language);
  const datasetClassIds = await adapter.classIds(root, split);
  const datasetPlan = adapter.classifierPlan ? await adapter.classifierPlan(root, split) : undefined;
  const prompts = datasetPrompts(adapter, root, datasetClassIds, datasetPlan, opts.prompts, language);
  return { adapter, split, root, language, datasetClassIds, datasetPlan, prompts };
}

async function prepare(opts: EvalOptions): Promise<Prepared> {
  const { adapter, split, root, language, datasetClassIds, datasetPlan, prompts } = await runPrompts(opts);
  const listed = await collect(adapter.samples(root, split));
  // A subset set (Babel-ImageNet) scores its classes only: their samples, relabelled; the plan was the identity.
  const classIds = prompts.classSubset ?? datasetClassIds;
  const plan = prompts.classSubset ? undefined : datasetPlan;
  const all = prompts.classSubset ? samplesOfClasses(listed, datasetClassIds, prompts.classSubset) : listed;
  const selected = selectSamples(all, opts.limit, opts.shard);
  return { adapter, split, root, classIds, plan, prompts, language, selected, splitSize: all.length };
}

/** The classification task: the classifier from the prompts, one prediction row per image. */
function classificationTask(opts: EvalOptions, p: Prepared): EvalTask<RunMetrics> {
  const { adapter, split, root, classIds, plan, prompts, language, selected, splitSize } = p;
  const classifierDescription = prompts.classSubset
    ? `${prompts.promptSet}${language ? ` ${language}` : ''}: ${classIds.length}-class subset of ${adapter.id}, samples of other classes left out`
    : (plan?.description ?? 'one classifier row per dataset class');
  const excludeFailures = opts.excludeFailures ?? false;
  const nClasses = classIds.length;
  let scorer: LogitScorer | undefined;
  return {
    samples: selected,
    preprocess: adapter.preprocess,
    identity: (preprocess) => ({
      dataset: adapter.id,
      root,
      split,
      prompts: prompts.hash,
      limit: opts.limit ?? null,
      preprocess,
      classifier: classifierDescription,
      excludeFailures,
      metricsVersion: METRICS_VERSION,
      // absent for the dataset's own language, so the identities of runs made before --language stay as they were
      ...(language ? { language } : {}),
    }),
    record: () => ({
      task: 'classification',
      dataset: adapter.id,
      datasetRoot: root,
      split,
      nClasses,
      promptSet: prompts.promptSet,
      promptHash: prompts.hash,
      params: {
        nTemplates: prompts.templates.length,
        ...(prompts.namesFrom ? { classNamesFrom: prompts.namesFrom } : {}),
        ...(prompts.templatesFrom ? { templatesFrom: prompts.templatesFrom } : {}),
        ...(language ? { language } : {}),
        classifier: classifierDescription,
        excludeFailures,
        headline: adapter.metric ?? 'top1',
        classIds,
        nSamples: selected.length,
        splitSize,
        convention: opts.preprocessConvention ?? 'reference',
      },
    }),
    done: finishedIndices,
    async encodeText({ ckpt, cache, counts }, onProgress) {
      const text = await encodeClassifier(ckpt, prompts, PROMPT_BATCH, cache, onProgress);
      scorer = await LogitScorer.create(text.classifier, ckpt.embedDim);
      counts.textHits = text.hits;
      counts.textMisses = text.misses;
    },
    async scoreBatch({ ckpt, db, runId }, batch) {
      const ok = batch.flatMap((s, i) => (s.embedding ? [i] : []));
      const emb = new Float32Array(ok.length * ckpt.embedDim);
      ok.forEach((i, j) => emb.set(batch[i].embedding!, j * ckpt.embedDim));
      const promptLogits = await scorer!.logits(emb);
      const logits = plan ? groupMaxLogits(promptLogits, prompts.classNames.length, plan.groups) : promptLogits;
      const rows: PredictionRow[] = batch.map(({ idx, sample, error }, i) => {
        const j = ok.indexOf(i);
        if (j < 0) {
          const multi = adapter.multiLabel ? { targets: sample.targets, scores: null } : {};
          return { idx, key: sample.key, label: sample.label, top5: null, top5Logits: null, error: error ?? 'unknown error', ...multi };
        }
        const row = logits.subarray(j * nClasses, (j + 1) * nClasses);
        const top5 = topK(row, 5);
        const multi = adapter.multiLabel ? { targets: sample.targets, scores: row.slice() } : {};
        return { idx, key: sample.key, label: sample.label, top5, top5Logits: top5.map((c) => row[c]), error: null, confidence: topConfidence(ckpt.scoring, row, top5[0]), ...multi };
      });
      insertPredictions(db, runId, rows);
    },
    summarise: summarisePredictions,
    async release() {
      await scorer?.release();
    },
  };
}

/**
 * Runs the evaluation and records it in `db`. Pass an opener instead of a DB to have the DB opened (and so
 * created) only after the dataset, prompts and model have been checked: bad configuration writes nothing.
 */
export async function runZeroShot(target: Db | (() => Db), opts: EvalOptions, onProgress?: (p: EvalProgress) => void): Promise<EvalResult> {
  const t0 = performance.now();
  const prepared = await prepare(opts);
  const r = await runEngine(target, opts, classificationTask(opts, prepared), onProgress, t0);
  const s = r.summary;
  return {
    ...runIdentityOf(r),
    dataset: prepared.adapter.id,
    split: prepared.split,
    promptSet: prepared.prompts.promptSet,
    promptHash: prepared.prompts.hash,
    ...(prepared.language ? { language: prepared.language } : {}),
    ...(prepared.prompts.templatesFrom ? { templatesFrom: prepared.prompts.templatesFrom } : {}),
    ...(prepared.prompts.classSubset ? { nClasses: prepared.classIds.length } : {}),
    n: s.n,
    nFailed: s.nFailed,
    excludeFailures: s.excludeFailures,
    top1: s.top1,
    top5: s.top5,
    headline: s.headline,
    headlineValue: s.headlineValue,
    ...(r.params.preprocessSources ? { preprocessing: { interpolation: String((r.params.preprocess as { interpolation?: string } | undefined)?.interpolation), sources: r.params.preprocessSources as PreprocessSources } } : {}),
    scoring: runLink(r.params),
    timings: r.timings,
    cache: r.cache,
  };
}
