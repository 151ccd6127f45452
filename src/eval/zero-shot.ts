/**
 * One zero-shot evaluation: checkpoint × dataset split × prompt set → predictions and metrics in the DB.
 * The numeric core (classifier, logits, top-k) is pure; this module wires the I/O edges together:
 * caches (no known prompt or image is encoded twice), resume (an unfinished run with the same identity
 * continues where it stopped), shards (a deterministic slice of the split) and interruption.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { getDataset, type DatasetAdapter, type Sample } from '../datasets/index.js';
import type { ClassifierPlan } from '../datasets/types.js';
import { UsageError } from '../errors.js';
import { loadCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import type { SessionOptions } from '../models/onnx-session.js';
import { createPreprocessPool, type PreprocessConfig, type PreprocessConvention } from '../models/preprocess/index.js';
import { buildClassifier, groupMaxLogits } from '../prompts/classifier.js';
import { datasetNames, hasNoNames, loadPromptSet, resolvePrompts, withDatasetNames, type ResolvedPrompts } from '../prompts/prompt-set.js';
import { EmbeddingCache } from '../store/cache.js';
import type { Db } from '../store/db.js';
import { claimRun, finishedIndices, finishRun, getRun, insertPredictions, iteratePredictions, markRun, newOwner, releaseOwner, type PredictionRow } from '../store/runs.js';
import { environment } from './environment.js';
import type { MetricId } from './metric-ids.js';
import { softmaxTop, topK } from './metrics.js';
import { computeRunMetrics, METRICS_VERSION, type RunMetrics } from './run-metrics.js';
import { LogitScorer } from './scorer.js';


export interface EvalOptions {
  modelDir: string;
  dataset: string;
  root: string;
  split?: string;
  /** prompt set id or file; default: the dataset's own, else `single` */
  prompts?: string;
  batchSize: number;
  /** score only this many samples, spread evenly over the split */
  limit?: number;
  /** evaluate only samples with index ≡ shard.index (mod shard.count) */
  shard?: Shard;
  /** preprocessing worker threads */
  workers: number;
  /** precision variant of the checkpoint (fp32, fp16, quantized, …) */
  variant?: string;
  session?: Partial<SessionOptions>;
  preprocessConvention?: PreprocessConvention;
  /** read and write the embedding caches (default true) */
  cache?: boolean;
  /** continue this run (its identity must match); by default an unfinished run with the same identity is continued */
  resume?: number;
  /** stop between batches, mark the run interrupted */
  signal?: AbortSignal;
  /** score only decoded samples; by default (as the paper) a sample that fails to decode counts as wrong */
  excludeFailures?: boolean;
}

export interface Shard {
  index: number;
  count: number;
}

export interface EvalProgress {
  stage: 'text' | 'images';
  done: number;
  total: number;
}

export interface EvalResult {
  runId: number;
  resumed: boolean;
  model: string;
  layout: string;
  variant: string;
  modelFingerprint: string;
  dataset: string;
  split: string;
  shard: string | null;
  promptSet: string;
  promptHash: string;
  n: number;
  nFailed: number;
  excludeFailures: boolean;
  top1: number;
  top5: number | null;
  headline: MetricId;
  headlineValue: number | null;
  timings: Record<string, number>;
  cache: { textHits: number; textMisses: number; imageHits: number; imageMisses: number };
}

/** Thrown when a run stops on a signal; the run is marked interrupted and can be resumed. */
export class RunInterrupted extends Error {
  constructor(readonly runId: number, readonly done: number, readonly total: number) {
    super(`run ${runId} interrupted after ${done} of ${total} samples`);
    this.name = 'RunInterrupted';
  }
}

/** Parses `--shard i/n`. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
  if (!shard || shard.count < 1 || shard.index >= shard.count) throw new UsageError(`--shard must be i/n with 0 ≤ i < n, got "${text}"`, { fix: 'e.g. --shard 0/4 for the first of four shards' });
  return shard;
}

/** Every k-th sample so that `limit` samples cover the whole split (ImageFolder order is class-major). */
export function spreadSubset<T>(items: readonly T[], limit: number | undefined): T[] {
  if (limit === undefined || limit >= items.length) return [...items];
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, got ${limit}`);
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)]);
}

/** The samples to score with their global indices (positions in the possibly limited split). */
export function selectSamples(all: readonly Sample[], limit: number | undefined, shard: Shard | undefined): { idx: number; sample: Sample }[] {
  return spreadSubset(all, limit)
    .map((sample, idx) => ({ idx, sample }))
    .filter(({ idx }) => !shard || idx % shard.count === shard.index);
}

function sha256(x: unknown): string {
  return createHash('sha256').update(typeof x === 'string' ? x : JSON.stringify(x)).digest('hex');
}

/** Encodes every prompt (each distinct text once, cached ones not at all) and averages them into the classifier. */
export async function encodeClassifier(
  ckpt: Checkpoint,
  prompts: ResolvedPrompts,
  batchSize: number,
  cache?: EmbeddingCache,
  onProgress?: (p: EvalProgress) => void,
): Promise<{ classifier: Float32Array; hits: number; misses: number }> {
  const unique = [...new Set(prompts.texts)];
  const dim = ckpt.embedDim;
  const cached = cache ? cache.getTexts(unique) : unique.map(() => undefined);
  const todo = unique.filter((_, i) => !cached[i]);
  const encoded = new Map<string, Float32Array>();
  for (let start = 0; start < todo.length; start += batchSize) {
    const chunk = todo.slice(start, start + batchSize);
    const emb = await ckpt.encodeTexts(chunk);
    cache?.putTexts(chunk, emb, dim);
    chunk.forEach((t, i) => encoded.set(t, emb.subarray(i * dim, (i + 1) * dim)));
    onProgress?.({ stage: 'text', done: Math.min(start + batchSize, todo.length), total: todo.length });
  }
  const byText = new Map(unique.map((t, i) => [t, cached[i] ?? encoded.get(t)!]));
  const all = new Float32Array(prompts.texts.length * dim);
  prompts.texts.forEach((t, i) => all.set(byText.get(t)!, i * dim));
  return { classifier: buildClassifier(all, prompts.textClass, dim, prompts.classNames.length), hits: unique.length - todo.length, misses: todo.length };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** size:mtime of a file, or '' when it cannot be read (the sample will fail with the real reason). */
function fileStamp(file: string): string {
  try {
    const s = statSync(file);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return '';
  }
}

/** An image's identity in the cache: its file, or its container file and key within it. */
function cacheKey(s: Sample): string {
  return s.load ? `${path.resolve(s.path)}#${s.key}` : path.resolve(s.path);
}

interface Scored {
  embedding?: Float32Array;
  error?: string;
}

/** Embeddings for a batch: cached ones looked up, the rest preprocessed in the pool and encoded. */
async function embedBatch(
  batch: readonly Sample[],
  ckpt: Checkpoint,
  pool: ReturnType<typeof createPreprocessPool>,
  cache: EmbeddingCache,
  preprocessKey: string,
  counts: EvalResult['cache'],
): Promise<Scored[]> {
  const items = batch.map((s) => ({ sample: cacheKey(s), stamp: fileStamp(s.path) }));
  const cached = cache.getImages(preprocessKey, items);
  const decoded = await Promise.allSettled(
    batch.map(async (s, i) => (cached[i] ? undefined : pool.run(s.load ? await s.load() : s.path))),
  );
  const out: Scored[] = batch.map(() => ({}));
  const size = ckpt.preprocess.size;
  const row = 3 * size * size;
  const toEncode: number[] = [];
  decoded.forEach((d, i) => {
    if (cached[i]) out[i].embedding = cached[i];
    else if (d.status === 'rejected') out[i].error = d.reason instanceof Error ? d.reason.message : String(d.reason);
    else toEncode.push(i);
  });
  counts.imageHits += batch.length - toEncode.length - out.filter((o) => o.error).length;
  counts.imageMisses += toEncode.length;
  if (toEncode.length) {
    const pixels = ckpt.imageBatch(toEncode.length); // handed to the inference worker without a copy
    toEncode.forEach((i, j) => pixels.set((decoded[i] as PromiseFulfilledResult<Float32Array>).value, j * row));
    const emb = await ckpt.encodeImages(pixels, toEncode.length);
    const dim = ckpt.embedDim;
    toEncode.forEach((i, j) => (out[i].embedding = emb.slice(j * dim, (j + 1) * dim)));
    cache.putImages(preprocessKey, toEncode.map((i) => ({ ...items[i], embedding: out[i].embedding! })));
  }
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
  prompts: ResolvedPrompts;
  selected: { idx: number; sample: Sample }[];
  /** samples in the whole split, before --limit and --shard */
  splitSize: number;
}

/**
 * The prompts a run uses: the named set (`ref`), else the dataset's default, else `single`; a templates-only
 * set takes the dataset's curated names (`datasetNames`).
 */
export function datasetPrompts(adapter: DatasetAdapter, root: string, classIds: readonly string[], plan: ClassifierPlan | undefined, ref: string | undefined): ResolvedPrompts {
  const fallback = typeof adapter.defaultPrompts === 'function' ? adapter.defaultPrompts(classIds, root) : adapter.defaultPrompts;
  const promptClassIds = plan?.promptClassIds ?? classIds;
  const chosen = loadPromptSet(ref ?? fallback ?? 'single');
  const named = hasNoNames(chosen) ? withDatasetNames(chosen, datasetNames(fallback, promptClassIds), promptClassIds) : chosen;
  return resolvePrompts(named, promptClassIds, adapter.id, { subset: plan !== undefined });
}

async function prepare(opts: EvalOptions): Promise<Prepared> {
  const adapter = getDataset(opts.dataset);
  const split = opts.split ?? adapter.splits[0];
  if (!adapter.splits.includes(split)) {
    throw new UsageError(`dataset ${adapter.id} has no split "${split}"`, { fix: `use one of: ${adapter.splits.join(', ')}` });
  }
  const root = path.resolve(opts.root);
  const classIds = await adapter.classIds(root, split);
  const plan = adapter.classifierPlan ? await adapter.classifierPlan(root, split) : undefined;
  const prompts = datasetPrompts(adapter, root, classIds, plan, opts.prompts);
  const all = await collect(adapter.samples(root, split));
  const selected = selectSamples(all, opts.limit, opts.shard);
  return { adapter, split, root, classIds, plan, prompts, selected, splitSize: all.length };
}

/**
 * Runs the evaluation and records it in `db`. Pass an opener instead of a DB to have the DB opened (and so
 * created) only after the dataset, prompts and model have been checked: bad configuration writes nothing.
 */
export async function runZeroShot(target: Db | (() => Db), opts: EvalOptions, onProgress?: (p: EvalProgress) => void): Promise<EvalResult> {
  const t0 = performance.now();
  const { adapter, split, root, classIds, plan, prompts, selected, splitSize } = await prepare(opts);
  const tList = performance.now();

  const ckpt = await loadCheckpoint(opts.modelDir, { variant: opts.variant, session: opts.session, preprocessConvention: opts.preprocessConvention });
  const tLoad = performance.now();
  let db: Db;
  try {
    db = typeof target === 'function' ? target() : target;
  } catch (err) {
    await ckpt.release();
    throw err;
  }
  const preprocess: PreprocessConfig = { ...ckpt.preprocess, ...adapter.preprocess };
  const preprocessKey = sha256(preprocess);
  const shard = opts.shard ? `${opts.shard.index}/${opts.shard.count}` : null;
  const classifierDescription = plan?.description ?? 'one classifier row per dataset class';
  const identity = sha256({
    model: ckpt.fingerprint,
    variant: ckpt.variant,
    dataset: adapter.id,
    root,
    split,
    prompts: prompts.hash,
    limit: opts.limit ?? null,
    preprocess,
    classifier: classifierDescription,
    excludeFailures: opts.excludeFailures ?? false,
    metricsVersion: METRICS_VERSION,
  });
  const cache = new EmbeddingCache(db, ckpt.fingerprint, ckpt.variant, opts.cache ?? true);
  const counts = { textHits: 0, textMisses: 0, imageHits: 0, imageMisses: 0 };

  const owner = newOwner();
  let claimed: { runId: number; resumed: boolean };
  try {
    if (opts.resume !== undefined) {
      const run = getRun(db, opts.resume);
      if (run.identity !== identity || run.shard !== shard) {
        throw new UsageError(`run ${opts.resume} was made with other settings (model, dataset, prompts, limit, shard or preprocessing differ)`, {
          fix: 'repeat the arguments of the original run, or leave out --resume to start a new run',
        });
      }
      if (run.status === 'finished') throw new UsageError(`run ${opts.resume} is already finished`, { fix: 'nothing to resume; `clip-bench report` shows it' });
    }
    claimed = claimRun(db, {
      identity,
      shard,
      owner,
      resume: opts.resume,
      create: () => ({
        modelName: ckpt.name,
        modelDir: path.resolve(opts.modelDir),
        modelFingerprint: ckpt.fingerprint,
        modelLayout: ckpt.layout,
        modelVariant: ckpt.variant,
        executionProvider: ckpt.sessionOptions.executionProvider,
        dataset: adapter.id,
        datasetRoot: root,
        split,
        nClasses: classIds.length,
        promptSet: prompts.promptSet,
        promptHash: prompts.hash,
        params: {
          batchSize: opts.batchSize,
          limit: opts.limit ?? null,
          workers: opts.workers,
          preprocess,
          session: ckpt.sessionOptions,
          nTemplates: prompts.templates.length,
          ...(prompts.namesFrom ? { classNamesFrom: prompts.namesFrom } : {}),
          classifier: classifierDescription,
          excludeFailures: opts.excludeFailures ?? false,
          headline: adapter.metric ?? 'top1',
          classIds,
          nSamples: selected.length,
          splitSize,
          convention: opts.preprocessConvention ?? 'reference',
        },
        environment: { ...environment() },
        identity,
        shard,
      }),
    });
  } catch (err) {
    releaseOwner(owner);
    await ckpt.release();
    throw err;
  }
  const { runId, resumed } = claimed;

  const pool = createPreprocessPool({ threads: opts.workers, cfg: preprocess });
  /** batches being preprocessed or encoded, oldest first */
  const ahead: Promise<Scored[]>[] = [];
  let scorer: LogitScorer | undefined;
  try {
    // The image encoder's session loads while the prompts are encoded, unless the images look cached (a re-score).
    const first = selected[0]?.sample;
    if (first && !cache.getImages(preprocessKey, [{ sample: cacheKey(first), stamp: fileStamp(first.path) }])[0]) ckpt.startImageEncoder();
    const text = await encodeClassifier(ckpt, prompts, 256, cache, onProgress);
    scorer = await LogitScorer.create(text.classifier, ckpt.embedDim);
    counts.textHits = text.hits;
    counts.textMisses = text.misses;
    const tText = performance.now();
    const done = finishedIndices(db, runId);
    const todo = selected.filter(({ idx }) => !done.has(idx));
    const nClasses = classIds.length;
    // Preprocessing runs in worker threads and the image encoder in its own (inference-thread.ts): with
    // LOOKAHEAD batches under way, the next batch is preprocessed while this one is encoded. Bounded, so
    // memory stays flat.
    const LOOKAHEAD = 2;
    const batchAt = (start: number) => todo.slice(start, start + opts.batchSize);
    const embed = (b: typeof todo) => embedBatch(b.map((x) => x.sample), ckpt, pool, cache, preprocessKey, counts);
    for (let k = 0; k < LOOKAHEAD; k++) ahead.push(embed(batchAt(k * opts.batchSize)));
    for (let start = 0; start < todo.length; start += opts.batchSize) {
      const batch = batchAt(start);
      const scored = await ahead.shift()!;
      if (opts.signal?.aborted) {
        markRun(db, runId, 'interrupted');
        throw new RunInterrupted(runId, done.size + start, selected.length);
      }
      ahead.push(embed(batchAt(start + LOOKAHEAD * opts.batchSize)));
      const ok = scored.flatMap((s, i) => (s.embedding ? [i] : []));
      const emb = new Float32Array(ok.length * ckpt.embedDim);
      ok.forEach((i, j) => emb.set(scored[i].embedding!, j * ckpt.embedDim));
      const promptLogits = await scorer.logits(emb);
      const logits = plan ? groupMaxLogits(promptLogits, prompts.classNames.length, plan.groups) : promptLogits;
      const rows: PredictionRow[] = batch.map(({ idx, sample }, i) => {
        const j = ok.indexOf(i);
        if (j < 0) {
          const multi = adapter.multiLabel ? { targets: sample.targets, scores: null } : {};
          return { idx, key: sample.key, label: sample.label, top5: null, top5Logits: null, error: scored[i].error ?? 'unknown error', ...multi };
        }
        const row = logits.subarray(j * nClasses, (j + 1) * nClasses);
        const top5 = topK(row, 5);
        const multi = adapter.multiLabel ? { targets: sample.targets, scores: row.slice() } : {};
        return { idx, key: sample.key, label: sample.label, top5, top5Logits: top5.map((c) => row[c]), error: null, confidence: softmaxTop(row, top5[0]), ...multi };
      });
      insertPredictions(db, runId, rows);
      onProgress?.({ stage: 'images', done: done.size + start + batch.length, total: selected.length });
    }
    await Promise.all(ahead); // the look-ahead past the last batch is empty; settle it before closing the pool
    const summary = summarisePredictions(db, runId);
    const tEnd = performance.now();
    const timings = {
      listSeconds: (tList - t0) / 1000,
      loadSeconds: (tLoad - tList) / 1000,
      textSeconds: (tText - tLoad) / 1000,
      imageSeconds: (tEnd - tText) / 1000,
      totalSeconds: (tEnd - t0) / 1000,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
    finishRun(db, runId, { ...summary, timings });
    return {
      runId,
      resumed,
      model: ckpt.name,
      layout: ckpt.layout,
      variant: ckpt.variant,
      modelFingerprint: ckpt.fingerprint,
      dataset: adapter.id,
      split,
      shard,
      promptSet: prompts.promptSet,
      promptHash: prompts.hash,
      n: summary.n,
      nFailed: summary.nFailed,
      excludeFailures: summary.excludeFailures,
      top1: summary.top1,
      top5: summary.top5,
      headline: summary.headline,
      headlineValue: summary.headlineValue,
      timings,
      cache: counts,
    };
  } catch (err) {
    for (const p of ahead) p.catch(() => undefined); // the look-ahead batches' own failures, if any, are moot now
    if (!(err instanceof RunInterrupted)) {
      try {
        markRun(db, runId, 'failed');
      } catch {
        // the DB itself failed (full, read-only): the original error is the one to report
      }
    }
    throw err;
  } finally {
    releaseOwner(owner);
    await pool.close();
    await scorer?.release();
    await ckpt.release();
  }
}
