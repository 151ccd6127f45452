/**
 * One zero-shot evaluation: checkpoint × dataset split × prompt set → predictions and metrics in the DB.
 * The numeric core (classifier, logits, top-k) is pure; this module wires the I/O edges together.
 */
import path from 'node:path';
import { getDataset, type Sample } from '../datasets/index.js';
import { UsageError } from '../errors.js';
import { loadCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import type { SessionOptions } from '../models/onnx-session.js';
import { createPreprocessPool, type PreprocessConvention } from '../models/preprocess/index.js';
import { buildClassifier, groupMaxLogits, zeroShotLogits } from '../prompts/classifier.js';
import { loadPromptSet, resolvePrompts, type ResolvedPrompts } from '../prompts/prompt-set.js';
import type { Db } from '../store/db.js';
import { createRun, finishRun, insertPredictions, markRun, type PredictionRow } from '../store/runs.js';
import { environment } from './environment.js';
import { accuracyStderr, topK, topKCorrect } from './metrics.js';

export interface EvalOptions {
  modelDir: string;
  dataset: string;
  root: string;
  split?: string;
  /** prompt set id or JSON file; default: the dataset's own, else `single` */
  prompts?: string;
  batchSize: number;
  /** score only this many samples, spread evenly over the split */
  limit?: number;
  /** preprocessing worker threads */
  workers: number;
  /** precision variant of the checkpoint (fp32, fp16, quantized, …) */
  variant?: string;
  session?: Partial<SessionOptions>;
  preprocessConvention?: PreprocessConvention;
}

export interface EvalProgress {
  stage: 'text' | 'images';
  done: number;
  total: number;
}

export interface EvalResult {
  runId: number;
  model: string;
  layout: string;
  variant: string;
  modelFingerprint: string;
  dataset: string;
  split: string;
  promptSet: string;
  promptHash: string;
  n: number;
  nFailed: number;
  top1: number;
  top5: number;
  timings: Record<string, number>;
}

/** Every k-th sample so that `limit` samples cover the whole split (ImageFolder order is class-major). */
export function spreadSubset<T>(items: readonly T[], limit: number | undefined): T[] {
  if (limit === undefined || limit >= items.length) return [...items];
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, got ${limit}`);
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)]);
}

/** Encodes every prompt (each distinct text once) and averages them into the classifier [nClasses, dim]. */
export async function encodeClassifier(ckpt: Checkpoint, prompts: ResolvedPrompts, batchSize: number, onProgress?: (p: EvalProgress) => void): Promise<Float32Array> {
  const unique = [...new Set(prompts.texts)];
  const row = new Map(unique.map((t, i) => [t, i]));
  const dim = ckpt.embedDim;
  const uniqueEmb = new Float32Array(unique.length * dim);
  for (let start = 0; start < unique.length; start += batchSize) {
    const chunk = unique.slice(start, start + batchSize);
    uniqueEmb.set(await ckpt.encodeTexts(chunk), start * dim);
    onProgress?.({ stage: 'text', done: Math.min(start + batchSize, unique.length), total: unique.length });
  }
  const all = new Float32Array(prompts.texts.length * dim);
  prompts.texts.forEach((t, i) => all.set(uniqueEmb.subarray(row.get(t)! * dim, (row.get(t)! + 1) * dim), i * dim));
  return buildClassifier(all, prompts.textClass, dim, prompts.classNames.length);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Runs the evaluation and records it in `db`. */
export async function runZeroShot(db: Db, opts: EvalOptions, onProgress?: (p: EvalProgress) => void): Promise<EvalResult> {
  const t0 = performance.now();
  const adapter = getDataset(opts.dataset);
  const split = opts.split ?? adapter.splits[0];
  if (!adapter.splits.includes(split)) {
    throw new UsageError(`dataset ${adapter.id} has no split "${split}"`, { fix: `use one of: ${adapter.splits.join(', ')}` });
  }
  const root = path.resolve(opts.root);
  const classIds = await adapter.classIds(root, split);
  const plan = adapter.classifierPlan ? await adapter.classifierPlan(root, split) : undefined;
  const promptSet = loadPromptSet(opts.prompts ?? adapter.defaultPrompts ?? 'single');
  const prompts = resolvePrompts(promptSet, plan?.promptClassIds ?? classIds, adapter.id, { subset: plan !== undefined });
  const samples = spreadSubset(await collect(adapter.samples(root, split)), opts.limit);
  const tList = performance.now();

  const ckpt = await loadCheckpoint(opts.modelDir, { variant: opts.variant, session: opts.session, preprocessConvention: opts.preprocessConvention });
  const tLoad = performance.now();
  const preprocess = { ...ckpt.preprocess, ...adapter.preprocess };
  const pool = createPreprocessPool({ threads: opts.workers, cfg: preprocess });
  let runId: number | undefined;
  try {
    const classifier = await encodeClassifier(ckpt, prompts, 256, onProgress);
    const tText = performance.now();
    runId = createRun(db, {
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
        classifier: plan?.description ?? 'one classifier row per dataset class',
      },
      environment: { ...environment() },
    });
    const preds: (number[] | null)[] = [];
    const size = ckpt.preprocess.size;
    const pixelsPerImage = 3 * size * size;
    // Preprocessing runs in worker threads; start the next batch before encoding this one so they overlap.
    const startBatch = (batch: Sample[]) => Promise.allSettled(batch.map((s) => pool.run(s.path)));
    let pending = startBatch(samples.slice(0, opts.batchSize));
    for (let start = 0; start < samples.length; start += opts.batchSize) {
      const batch = samples.slice(start, start + opts.batchSize);
      const decoded = await pending;
      pending = startBatch(samples.slice(start + opts.batchSize, start + 2 * opts.batchSize));
      const ok = decoded.flatMap((d, i) => (d.status === 'fulfilled' ? [i] : []));
      const pixels = new Float32Array(ok.length * pixelsPerImage);
      ok.forEach((i, j) => pixels.set((decoded[i] as PromiseFulfilledResult<Float32Array>).value, j * pixelsPerImage));
      const emb = ok.length ? await ckpt.encodeImages(pixels, ok.length) : new Float32Array(0);
      const promptLogits = zeroShotLogits(emb, classifier, ckpt.embedDim);
      const logits = plan ? groupMaxLogits(promptLogits, prompts.classNames.length, plan.groups) : promptLogits;
      const nClasses = classIds.length;
      const rows: PredictionRow[] = batch.map((s, i) => {
        const j = ok.indexOf(i);
        if (j < 0) {
          const reason = (decoded[i] as PromiseRejectedResult).reason;
          return { idx: start + i, key: s.key, label: s.label, top5: null, top5Logits: null, error: reason instanceof Error ? reason.message : String(reason) };
        }
        const row = logits.subarray(j * nClasses, (j + 1) * nClasses);
        const top5 = topK(row, 5);
        return { idx: start + i, key: s.key, label: s.label, top5, top5Logits: top5.map((c) => row[c]), error: null };
      });
      insertPredictions(db, runId, rows);
      for (const r of rows) preds.push(r.top5);
      onProgress?.({ stage: 'images', done: start + batch.length, total: samples.length });
    }
    const labels = samples.map((s) => s.label);
    const n = samples.length;
    const top1 = n ? topKCorrect(preds, labels, 1) / n : 0;
    const top5 = n ? topKCorrect(preds, labels, 5) / n : 0;
    const nFailed = preds.filter((p) => p === null).length;
    const tEnd = performance.now();
    const timings = {
      listSeconds: (tList - t0) / 1000,
      loadSeconds: (tLoad - tList) / 1000,
      textSeconds: (tText - tLoad) / 1000,
      imageSeconds: (tEnd - tText) / 1000,
      totalSeconds: (tEnd - t0) / 1000,
    };
    finishRun(db, runId, {
      n,
      nFailed,
      top1,
      top5,
      timings,
      metrics: {
        top1: { value: top1, higher_is_better: true, stderr: accuracyStderr(top1, n) },
        top5: { value: top5, higher_is_better: true, stderr: accuracyStderr(top5, n) },
        failed_samples_count_as_wrong: true,
      },
    });
    return { runId, model: ckpt.name, layout: ckpt.layout, variant: ckpt.variant, modelFingerprint: ckpt.fingerprint, dataset: adapter.id, split, promptSet: prompts.promptSet, promptHash: prompts.hash, n, nFailed, top1, top5, timings };
  } catch (err) {
    if (runId !== undefined) markRun(db, runId, 'failed');
    throw err;
  } finally {
    await pool.close();
    await ckpt.release();
  }
}
