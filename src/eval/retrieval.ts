/**
 * Zero-shot retrieval: checkpoint × retrieval split (images and their captions) → every query's rank and
 * top-10, and CLIP_benchmark's metrics, in the DB. The engine (engine.ts) embeds the images with its cache,
 * resume, shards and interruption; this task encodes the captions (through the text cache), stores each
 * image's embedding in the run, and at the end ranks both directions over all of the run's images and
 * captions (`scoreRetrieval`). A shard run only embeds: its images are ranked once the shards are merged,
 * because a query's rank depends on the whole gallery.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Sample } from '../datasets/index.js';
import { countMismatch, describeRetrievalData } from '../datasets/retrieval/summary.js';
import { getRetrievalDataset, RETRIEVAL_DATASETS, type RetrievalAdapter } from '../datasets/retrieval/index.js';
import { UsageError } from '../errors.js';
import type { Checkpoint } from '../models/checkpoint.js';
import type { Db } from '../store/db.js';
import { captionCount, embeddedImages, insertCaptions, insertImages, readCaptions, readImages, replaceQueries, type QueryRow, type QueryStatus, type StoredCaption, type StoredImage } from '../store/retrieval.js';
import { getRun, type RunSummary } from '../store/runs.js';
import { encodeTextsCached, runEngine, runIdentityOf, sha256, spreadSubset, type EngineOptions, type EvalProgress, type EvalTask, type RunHeader } from './engine.js';
import { checkRecallK, DEFAULT_RECALL_K, QUERY_STATUS, RETRIEVAL_HEADLINE, retrievalHigherIsBetter, retrievalMetricNames, retrievalMetrics, type QueryRanks } from './retrieval-metrics.js';
import { RETRIEVAL_TOP_K, scoreRetrieval } from './retrieval-scorer.js';

/** Bumped when what a retrieval run computes from the same embeddings changes (part of the run identity). */
export const RETRIEVAL_METRICS_VERSION = 1;

export interface RetrievalOptions extends EngineOptions {
  dataset: string;
  root: string;
  split?: string;
  /** prepended to every caption before it is encoded (the paper's "a photo of "); none by default, as CLIP_benchmark */
  captionPrefix?: string;
  /** recall cut-offs (default 1, 5, 10) */
  recallK?: readonly number[];
  /** leave failed images and their captions out instead of counting them as misses */
  excludeFailures?: boolean;
  /** a multilingual dataset's caption language (required there; `en` or nothing for an English-only dataset) */
  language?: string;
}

/** What a retrieval run's record holds beside the engine's, read back by summarise and merge. */
interface RetrievalParams {
  recallK: number[];
  excludeFailures: boolean;
}

export interface RetrievalSummary extends Omit<RunSummary, 'timings'> {
  /** false for a shard run: its images are embedded, ranked only after `clip-bench merge` */
  ranked: boolean;
  nImages: number;
  nCaptions: number;
  /** images that failed (listed but missing or undecodable) */
  nFailedImages: number;
  /** text→image queries counted as misses because their image failed */
  nFailedCaptions: number;
  /** CLIP_benchmark's names → value (fractions, 1-based ranks); empty when not ranked */
  values: Record<string, number>;
}

export interface RetrievalResult extends RunHeader {
  task: 'retrieval';
  dataset: string;
  split: string;
  /** which layout was read under --root */
  layoutFound: string;
  /** the counts in words, with the captions-per-image histogram (COCO's 6s and 7s) */
  description: string;
  /** where the counts differ from the official split */
  countNote: string | null;
  captionPrefix: string;
  /** the captions' language for a multilingual dataset (`params.language`); null for an English-only one */
  language: string | null;
  recallK: number[];
  /** captions longer than the text context, cut (as clip.tokenize(truncate=True)) */
  nTruncatedCaptions: number;
  contextLength: number;
  excludeFailures: boolean;
  summary: RetrievalSummary;
}

/** The split's images and captions after --limit (images spread over the split, each with all its captions). */
interface Prepared {
  adapter: RetrievalAdapter;
  split: string;
  /** the caption language of a multilingual dataset, undefined for an English-only one */
  language?: string;
  root: string;
  layoutFound: string;
  description: string;
  countNote: string | null;
  /** every selected image with its global index (position after --limit), before --shard */
  images: { idx: number; sample: Sample }[];
  /** captions of the selected images, `image` the global index */
  captions: { text: string; image: number }[];
  splitSize: number;
}

/**
 * The language passed to the dataset's reader: a multilingual dataset's (its reader refuses none or one it
 * lacks, naming those found); an English-only dataset takes none, or `en`, which changes nothing.
 */
export function captionLanguage(adapter: Pick<RetrievalAdapter, 'id' | 'languages'>, language: string | undefined): string | undefined {
  if (adapter.languages || language === undefined || language === 'en') return adapter.languages ? language : undefined;
  const multilingual = Object.values(RETRIEVAL_DATASETS).filter((d) => 'languages' in d).map((d) => d.id);
  throw new UsageError(`${adapter.id}'s captions are English only, so --language ${language} has nothing to select`, { fix: `leave out --language, or use a multilingual retrieval dataset: ${multilingual.join(', ')}` });
}

async function prepare(opts: RetrievalOptions): Promise<Prepared> {
  const adapter = getRetrievalDataset(opts.dataset);
  const split = opts.split ?? adapter.splits[0];
  if (!adapter.splits.includes(split)) throw new UsageError(`dataset ${adapter.id} has no split "${split}"`, { fix: `use one of: ${adapter.splits.join(', ')}` });
  const root = path.resolve(opts.root);
  const language = captionLanguage(adapter, opts.language);
  const data = await adapter.load(root, split, language);
  const chosen = spreadSubset([...data.images.keys()], opts.limit);
  const globalOf = new Map(chosen.map((orig, idx) => [orig, idx]));
  // a retrieval image has no class: label −1 (the engine and the image cache read only key, path and load)
  const images = chosen.map((orig, idx) => ({ idx, sample: { ...data.images[orig], label: -1 } }));
  const captions = data.captions.flatMap((c) => (globalOf.has(c.image) ? [{ text: c.text, image: globalOf.get(c.image)! }] : []));
  // with --limit the counts said are those of the selection, missing images among it included
  const selection = () => ({ images: images.map((i) => i.sample), captions, missingImages: images.filter(({ sample }) => !sample.load && !existsSync(sample.path)).length });
  return {
    adapter,
    split,
    ...(language === undefined ? {} : { language }),
    root,
    layoutFound: data.layoutFound,
    description: describeRetrievalData(opts.limit === undefined ? data : selection()),
    countNote: opts.limit === undefined ? (countMismatch(adapter, split, data) ?? null) : null,
    images,
    captions,
    splitSize: data.images.length,
  };
}

/** Captions longer than the context (with the family's special tokens), which the tokenizer cuts. */
export function truncatedCaptions(ckpt: Pick<Checkpoint, 'textTokenizer'>, texts: readonly string[]): number {
  return texts.filter((t) => ckpt.textTokenizer.truncated(t)).length;
}

/** The ranking of a retrieval run's stored rows, before it is written. */
export interface RankedRun {
  queries: QueryRow[];
  summary: RetrievalSummary;
}

const statusName = (s: number): QueryStatus => (s === QUERY_STATUS.scored ? 'scored' : s === QUERY_STATUS.failed ? 'failed' : 'excluded');

/**
 * Ranks both directions over a run's images and captions (global indices, any order) and forms its
 * queries and metrics. Pure but for the onnxruntime MatMul; the same rows give the same result however
 * the run was sharded, resumed or cached.
 */
export async function rankRows(imageRows: readonly StoredImage[], captionRows: readonly StoredCaption[], params: RetrievalParams): Promise<RankedRun> {
  const images = [...imageRows].sort((a, b) => a.idx - b.idx);
  const captions = [...captionRows].sort((a, b) => a.idx - b.idx);
  const local = new Map(images.map((im, i) => [im.idx, i]));
  const dim = captions[0]?.embedding.length ?? 0;
  if (images.length === 0 || captions.length === 0) throw new UsageError('the run has no images or no captions to rank', { fix: 'check the dataset root: the split must list images with captions' });
  const imageEmb = new Float32Array(images.length * dim);
  const failed = new Uint8Array(images.length);
  images.forEach((im, i) => (im.embedding ? imageEmb.set(im.embedding, i * dim) : (failed[i] = 1)));
  const captionEmb = new Float32Array(captions.length * dim);
  const captionImage = new Int32Array(captions.length);
  captions.forEach((c, j) => {
    const i = local.get(c.image);
    if (i === undefined) throw new Error(`caption ${c.idx} describes image ${c.image}, which the run has not embedded`);
    captionEmb.set(c.embedding, j * dim);
    captionImage[j] = i;
  });
  const ranking = await scoreRetrieval(imageEmb, captionEmb, dim, captionImage, { imageFailed: failed, excludeFailures: params.excludeFailures, topK: RETRIEVAL_TOP_K });
  const m = retrievalMetrics(ranking, params.recallK);
  const tops = (q: QueryRanks, n: number, toGlobal: (g: number) => number) => {
    const out: number[] = [];
    for (let t = 0; t < q.topK; t++) {
      const g = q.top[n * q.topK + t];
      if (g >= 0) out.push(toGlobal(g));
    }
    return out;
  };
  const queries: QueryRow[] = [
    ...captions.map((c, j) => ({
      query: 'text' as const,
      idx: c.idx,
      key: images[captionImage[j]].key,
      caption: c.text,
      rank: ranking.textToImage.rank[j],
      status: statusName(ranking.textToImage.status[j]),
      top10: tops(ranking.textToImage, j, (g) => images[g].idx),
    })),
    ...images.map((im, i) => ({
      query: 'image' as const,
      idx: im.idx,
      key: im.key,
      caption: null,
      rank: ranking.imageToText.rank[i],
      status: statusName(ranking.imageToText.status[i]),
      top10: tops(ranking.imageToText, i, (g) => captions[g].idx),
    })),
  ];
  const nFailedImages = failed.reduce((a, b) => a + b, 0);
  const metricEntries = Object.fromEntries(
    retrievalMetricNames(params.recallK).map((name) => [name, { value: m.values[name], higher_is_better: retrievalHigherIsBetter(name), ...(name in m.stderr ? { stderr: m.stderr[name] } : {}) }]),
  );
  return {
    queries,
    summary: {
      ranked: true,
      n: images.length,
      nFailed: nFailedImages,
      top1: null,
      top5: null,
      nImages: images.length,
      nCaptions: captions.length,
      nFailedImages,
      nFailedCaptions: m.nFailedTextQueries,
      values: m.values,
      metrics: {
        ...metricEntries,
        headline: RETRIEVAL_HEADLINE,
        task: 'retrieval',
        recall_k: params.recallK,
        n_images: images.length,
        n_captions: captions.length,
        text_queries: m.nTextQueries,
        image_queries: m.nImageQueries,
        failed_images: nFailedImages,
        failed_images_count_as_misses: !params.excludeFailures,
        metrics_version: RETRIEVAL_METRICS_VERSION,
      },
    },
  };
}

function paramsOf(db: Db, runId: number): RetrievalParams {
  const p = getRun(db, runId).params;
  return { recallK: p.recallK as number[], excludeFailures: p.excludeFailures === true };
}

/** The summary of a shard run: what it embedded, not ranked. */
function shardSummary(db: Db, runId: number): RetrievalSummary {
  const images = readImages(db, runId);
  const nFailedImages = images.filter((im) => !im.embedding).length;
  const nCaptions = captionCount(db, runId);
  return {
    ranked: false,
    n: images.length,
    nFailed: nFailedImages,
    top1: null,
    top5: null,
    nImages: images.length,
    nCaptions,
    nFailedImages,
    nFailedCaptions: 0,
    values: {},
    metrics: { headline: RETRIEVAL_HEADLINE, task: 'retrieval', ranked: false, n_images: images.length, failed_images: nFailedImages, note: 'a shard: merge all shards (`clip-bench merge`) to rank them', metrics_version: RETRIEVAL_METRICS_VERSION },
  };
}

/** Ranks a whole-split retrieval run from its stored rows and stores its queries; a shard run is only summarised. */
export async function summariseRetrieval(db: Db, runId: number): Promise<RetrievalSummary> {
  if (getRun(db, runId).shard) return shardSummary(db, runId);
  const ranked = await rankRows(readImages(db, runId), readCaptions(db, runId), paramsOf(db, runId));
  replaceQueries(db, runId, ranked.queries);
  return ranked.summary;
}

function retrievalTask(opts: RetrievalOptions, p: Prepared): EvalTask<RetrievalSummary> {
  const prefix = opts.captionPrefix ?? '';
  const recallK = [...(opts.recallK ?? DEFAULT_RECALL_K)];
  const excludeFailures = opts.excludeFailures ?? false;
  const captionsHash = sha256(p.captions.map((c) => [c.image, c.text]));
  const samples = p.images.filter(({ idx }) => !opts.shard || idx % opts.shard.count === opts.shard.index);
  return {
    samples,
    identity: (preprocess) => ({
      task: 'retrieval',
      dataset: p.adapter.id,
      root: p.root,
      split: p.split,
      captionPrefix: prefix,
      // a multilingual run's language is part of what it is (its captions hash differs too, but says no language)
      ...(p.language === undefined ? {} : { language: p.language }),
      captions: captionsHash,
      recallK,
      limit: opts.limit ?? null,
      preprocess,
      excludeFailures,
      metricsVersion: RETRIEVAL_METRICS_VERSION,
    }),
    record: (ckpt) => ({
      task: 'retrieval',
      dataset: p.adapter.id,
      datasetRoot: p.root,
      split: p.split,
      nClasses: 0,
      promptSet: (prefix ? `captions with prefix ${JSON.stringify(prefix)}` : 'captions') + (p.language === undefined ? '' : ` in ${p.language}`),
      promptHash: captionsHash,
      params: {
        headline: RETRIEVAL_HEADLINE,
        recallK,
        captionPrefix: prefix,
        ...(p.language === undefined ? {} : { language: p.language }),
        excludeFailures,
        nSamples: samples.length,
        nImages: p.images.length,
        nCaptions: p.captions.length,
        splitSize: p.splitSize,
        layoutFound: p.layoutFound,
        description: p.description,
        countNote: p.countNote,
        nTruncatedCaptions: truncatedCaptions(ckpt, p.captions.map((c) => prefix + c.text)),
        contextLength: ckpt.textTokenizer.contextLength,
        convention: opts.preprocessConvention ?? 'reference',
      },
    }),
    done: embeddedImages,
    async encodeText({ ckpt, db, runId, cache, counts }, onProgress) {
      const stored = captionCount(db, runId);
      if (stored === p.captions.length) {
        counts.textHits = stored; // a continued run: its captions were encoded and stored when it began
        return;
      }
      if (stored !== 0) throw new Error(`run ${runId} holds ${stored} captions, not ${p.captions.length}`);
      const text = await encodeTextsCached(ckpt, p.captions.map((c) => prefix + c.text), 256, cache, onProgress);
      const dim = ckpt.embedDim;
      insertCaptions(db, runId, p.captions.map((c, idx) => ({ idx, image: c.image, text: c.text, embedding: text.embeddings.subarray(idx * dim, (idx + 1) * dim) })));
      counts.textHits = text.hits;
      counts.textMisses = text.misses;
    },
    async scoreBatch({ db, runId }, batch) {
      insertImages(db, runId, batch.map(({ idx, sample, embedding, error }) => ({ idx, key: sample.key, embedding: embedding ?? null, error: embedding ? null : (error ?? 'unknown error') })));
    },
    summarise: summariseRetrieval,
  };
}

/** Parses `--recall-k 1,5,10`. */
export function parseRecallK(text: string): number[] {
  const ks = text.split(',').map((s) => s.trim());
  if (ks.some((k) => !/^\d+$/.test(k))) throw new UsageError(`--recall-k takes whole numbers separated by commas, got "${text}"`, { fix: 'e.g. --recall-k 1,5,10' });
  return ks.map(Number);
}

/**
 * Runs a retrieval evaluation and records it in `db`. Pass an opener instead of a DB to have the DB opened
 * (and so created) only after the dataset, the cut-offs and the model have been checked.
 */
export async function runRetrieval(target: Db | (() => Db), opts: RetrievalOptions, onProgress?: (p: EvalProgress) => void): Promise<RetrievalResult> {
  const t0 = performance.now();
  const prepared = await prepare(opts);
  const recallK = [...(opts.recallK ?? DEFAULT_RECALL_K)];
  if (!recallK.includes(1)) throw new UsageError(`${RETRIEVAL_HEADLINE} needs recall@1 among the cut-offs`, { fix: 'include 1 in --recall-k' });
  checkRecallK(recallK, prepared.images.length, prepared.captions.length);
  const r = await runEngine(target, opts, retrievalTask({ ...opts, recallK }, prepared), onProgress, t0);
  return {
    task: 'retrieval',
    ...runIdentityOf(r),
    dataset: prepared.adapter.id,
    split: prepared.split,
    layoutFound: prepared.layoutFound,
    description: prepared.description,
    countNote: prepared.countNote,
    captionPrefix: opts.captionPrefix ?? '',
    language: prepared.language ?? null,
    recallK,
    nTruncatedCaptions: r.params.nTruncatedCaptions as number,
    contextLength: r.params.contextLength as number,
    excludeFailures: opts.excludeFailures ?? false,
    summary: r.summary,
    timings: r.timings,
    cache: r.cache,
  };
}
