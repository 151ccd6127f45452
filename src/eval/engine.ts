/**
 * The task-agnostic evaluation engine: a checkpoint × a list of image samples → image embeddings, batch by
 * batch, handed to a task that scores and stores them. The engine owns what every task shares: loading the
 * model, opening the DB only once everything was checked, the run's identity and claim (resume, shards, one
 * writer per run), the image-embedding cache, the preprocessing pool and its look-ahead, interruption,
 * timings and cleanup. A task (classification: zero-shot.ts) says what a run records, encodes its text side
 * and scores each batch of images.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Sample } from '../datasets/types.js';
import { UsageError } from '../errors.js';
import { loadCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import { linkIdentity, type StatedLink } from '../models/scoring-link.js';
import type { SessionOptions } from '../models/onnx-session.js';
import { createPreprocessPool, type PreprocessConfig, type PreprocessConvention, type PreprocessPool } from '../models/preprocess/index.js';
import { EmbeddingCache } from '../store/cache.js';
import type { Db } from '../store/db.js';
import { claimRun, findFinished, finishRun, getRun, markRun, newOwner, releaseOwner, type RunIdentity, type RunSummary } from '../store/runs.js';
import { environment } from './environment.js';

/** How a run is executed, whatever its task. */
export interface EngineOptions {
  modelDir: string;
  /** the model's name in the run's record (`--name`); default its folder's name. Not part of the run's identity. */
  name?: string;
  /** precision variant of the checkpoint (fp32, fp16, quantized, …) */
  variant?: string;
  session?: Partial<SessionOptions>;
  preprocessConvention?: PreprocessConvention;
  /** a tokenizer file or folder replacing the checkpoint's own (`--tokenizer`) */
  tokenizer?: string;
  /** `--logit-scale` / `--logit-bias`: the scoring link's numbers, where the checkpoint does not state them */
  scoring?: StatedLink;
  /** images encoded per onnxruntime call */
  batchSize: number;
  /** preprocessing worker threads */
  workers: number;
  /** read and write the embedding caches (default true) */
  cache?: boolean;
  /** continue this run (its identity must match); by default an unfinished run with the same identity is continued */
  resume?: number;
  /** score only this many samples, spread evenly over the split (the task selects them: `selectSamples`) */
  limit?: number;
  /** evaluate only samples with index ≡ shard.index (mod shard.count) */
  shard?: Shard;
  /** stop between batches, mark the run interrupted */
  signal?: AbortSignal;
  /** the language of the text side (ISO code; NLLB tokenizers need it); absent: the dataset's own */
  language?: string;
  /** return a finished run of the same identity as it is instead of making a new one (`suite`: done pairs are skipped) */
  skipFinished?: boolean;
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

export interface CacheCounts {
  textHits: number;
  textMisses: number;
  imageHits: number;
  imageMisses: number;
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

export function sha256(x: unknown): string {
  return createHash('sha256').update(typeof x === 'string' ? x : JSON.stringify(x)).digest('hex');
}

/** One sample of a batch as the engine hands it to the task: its embedding, or the reason it has none. */
export interface ImageOutcome {
  idx: number;
  sample: Sample;
  embedding?: Float32Array;
  error?: string;
}

/** What a task may use while it runs. */
export interface TaskContext {
  ckpt: Checkpoint;
  db: Db;
  runId: number;
  cache: EmbeddingCache;
  counts: CacheCounts;
}

/** The fields of a run's record that the task decides; the engine adds the model's, the environment and the identity. */
export type TaskRecord = Pick<RunIdentity, 'task' | 'dataset' | 'datasetRoot' | 'split' | 'nClasses' | 'promptSet' | 'promptHash'> & { params: Record<string, unknown> };

/** A task's part of a run: classification (zero-shot.ts) or retrieval (retrieval.ts). */
export interface EvalTask<Summary extends Omit<RunSummary, 'timings'>> {
  /** the samples to embed, with their global indices (limited and sharded as the engine options say) */
  samples: readonly { idx: number; sample: Sample }[];
  /** preprocessing the benchmark prescribes on top of the model's own (e.g. ObjectNet's border trim) */
  preprocess?: Partial<PreprocessConfig>;
  /** everything beside the model and its variant that determines the results, hashed in this key order */
  identity(preprocess: PreprocessConfig): Record<string, unknown>;
  /** the run's record (engine parameters come first in `params`) */
  record(ckpt: Checkpoint, preprocess: PreprocessConfig): TaskRecord;
  /** indices already scored in this run, skipped when it is continued */
  done(db: Db, runId: number): Set<number>;
  /** encodes the text side (prompts, captions) while the image encoder loads */
  encodeText(ctx: TaskContext, onProgress?: (p: EvalProgress) => void): Promise<void>;
  /** scores and stores one batch of images */
  scoreBatch(ctx: TaskContext, batch: readonly ImageOutcome[]): Promise<void>;
  /** the metrics over everything stored for the run */
  summarise(db: Db, runId: number): Summary | Promise<Summary>;
  /** frees what `encodeText` made (scoring sessions) */
  release?(): Promise<void>;
}

/** What every task's result says about its run: which run, which model, how long, what the caches saved. */
export interface RunHeader {
  runId: number;
  resumed: boolean;
  /** true where a finished run of the same identity was returned as it is (`skipFinished`); absent otherwise */
  doneEarlier?: true;
  model: string;
  layout: string;
  variant: string;
  modelFingerprint: string;
  shard: string | null;
  timings: Record<string, number>;
  cache: CacheCounts;
}

export interface EngineResult<Summary> extends RunHeader {
  summary: Summary;
  /** the run's stored parameters (of the run as first made, when it was continued) */
  params: Record<string, unknown>;
}

/** The run's identity fields of an engine result, for a task's own result (timings and cache come last there). */
export function runIdentityOf(r: RunHeader): Omit<RunHeader, 'timings' | 'cache'> {
  return { runId: r.runId, resumed: r.resumed, ...(r.doneEarlier ? { doneEarlier: true as const } : {}), model: r.model, layout: r.layout, variant: r.variant, modelFingerprint: r.modelFingerprint, shard: r.shard };
}

/**
 * The texts in the order they are best encoded: where the checkpoint cuts each batch after its longest row
 * (CLIP on a dynamic sequence axis), shortest fed row first, so each batch runs at about its own length
 * rather than at that of the longest prompt it happens to hold. A stable sort: equal lengths keep their order.
 * Causal attention pools at end-of-text, so a row's embedding does not depend on its batch-mates' length
 * (tests/text-buckets.test.ts checks it bit for bit against the full context length).
 */
export function inLengthBuckets(ckpt: Pick<Checkpoint, 'cutsTextToLongest' | 'textTokenizer'>, texts: string[], lengthOf = fedLengths(ckpt, texts)): string[] {
  if (!ckpt.cutsTextToLongest || texts.length < 2) return texts;
  return [...texts].sort((a, b) => lengthOf(a) - lengthOf(b));
}

/** Each text's fed length (its tokens where rows are cut to their longest, else the context length), tokenized once. */
export function fedLengths(ckpt: Pick<Checkpoint, 'cutsTextToLongest' | 'textTokenizer'>, texts: readonly string[]): (t: string) => number {
  if (!ckpt.cutsTextToLongest) return () => ckpt.textTokenizer.contextLength;
  const length = new Map(texts.map((t) => [t, ckpt.textTokenizer.row(t).attention_mask.reduce((a, b) => a + b, 0)]));
  return (t) => length.get(t) ?? ckpt.textTokenizer.row(t).attention_mask.reduce((a, b) => a + b, 0);
}

/**
 * Token ids one text batch feeds at most: a batch of long rows (cut to its longest, or fed at the full
 * context length) has fewer rows, so that onnxruntime's arena, which keeps its largest activations for the
 * session's life, stays ~256 × 16 tokens deep (ViT-B/32's text tower: 32 MiB an MLP activation).
 */
export const TEXT_BATCH_TOKENS = 4096;

/** The batches `todo` is encoded in, in its order: at most `batchSize` rows and `TEXT_BATCH_TOKENS` fed ids each (at least one row). */
export function textBatches(ckpt: Pick<Checkpoint, 'cutsTextToLongest' | 'textTokenizer'>, todo: readonly string[], batchSize: number, lengthOf = fedLengths(ckpt, todo)): string[][] {
  const out: string[][] = [];
  let batch: string[] = [];
  let longest = 0;
  for (const t of todo) {
    const len = lengthOf(t);
    if (batch.length > 0 && (batch.length >= batchSize || (batch.length + 1) * Math.max(longest, len) > TEXT_BATCH_TOKENS)) {
      out.push(batch);
      batch = [];
      longest = 0;
    }
    batch.push(t);
    longest = Math.max(longest, len);
  }
  if (batch.length) out.push(batch);
  return out;
}

/**
 * Embeddings of `texts` ([texts.length, embedDim], unit rows, in order): each distinct text encoded once,
 * cached ones not at all, in length buckets (`inLengthBuckets`) and token-bounded batches (`textBatches`).
 * Prompts and captions both go through here. The rows are written into one array as they come (the cache's
 * and the encoder's): nothing else holds a copy of them.
 */
export async function encodeTextsCached(
  ckpt: Checkpoint,
  texts: readonly string[],
  batchSize: number,
  cache?: EmbeddingCache,
  onProgress?: (p: EvalProgress) => void,
): Promise<{ embeddings: Float32Array; hits: number; misses: number }> {
  // where each distinct text goes in the result: its first position, then its repeats
  const at = new Map<string, number[]>();
  texts.forEach((t, i) => (at.get(t) ?? at.set(t, []).get(t)!).push(i));
  const unique = [...at.keys()];
  const dim = ckpt.embedDim;
  const embeddings = new Float32Array(texts.length * dim);
  const place = (t: string, row: Float32Array) => {
    for (const i of at.get(t)!) embeddings.set(row, i * dim);
  };
  const first = (t: string) => at.get(t)![0];
  const found = cache ? cache.readTextsInto(unique, embeddings, dim, (i) => first(unique[i])) : unique.map(() => false);
  // a cached text's repeats get the row read into its first position
  unique.forEach((t, i) => found[i] && at.get(t)!.length > 1 && place(t, embeddings.slice(first(t) * dim, (first(t) + 1) * dim)));
  const missing = unique.filter((_, i) => !found[i]);
  const lengthOf = fedLengths(ckpt, missing); // shared by the ordering and the batching
  const todo = inLengthBuckets(ckpt, missing, lengthOf);
  let done = 0;
  for (const chunk of textBatches(ckpt, todo, batchSize, lengthOf)) {
    const emb = await ckpt.encodeTexts(chunk);
    cache?.putTexts(chunk, emb, dim);
    chunk.forEach((t, i) => place(t, emb.subarray(i * dim, (i + 1) * dim)));
    onProgress?.({ stage: 'text', done: (done += chunk.length), total: todo.length });
  }
  return { embeddings, hits: unique.length - todo.length, misses: todo.length };
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

/** Embeddings for a batch: cached ones looked up, the rest preprocessed in the pool and encoded. */
async function embedBatch(
  batch: readonly { idx: number; sample: Sample }[],
  ckpt: Checkpoint,
  pool: PreprocessPool,
  cache: EmbeddingCache,
  preprocessKey: string,
  counts: CacheCounts,
): Promise<ImageOutcome[]> {
  const items = batch.map(({ sample }) => ({ sample: cacheKey(sample), stamp: fileStamp(sample.path) }));
  const cached = cache.getImages(preprocessKey, items);
  const decoded = await Promise.allSettled(
    batch.map(async ({ sample }, i) => (cached[i] ? undefined : pool.run(sample.load ? await sample.load() : sample.path))),
  );
  const out: ImageOutcome[] = batch.map(({ idx, sample }) => ({ idx, sample }));
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

/**
 * Runs one task and records it in `db`. Pass an opener instead of a DB to have the DB opened (and so created)
 * only after the task's inputs and the model have been checked: bad configuration writes nothing.
 * @param startedAt `performance.now()` when the task began listing its inputs (for the timings)
 */
export async function runEngine<Summary extends Omit<RunSummary, 'timings'>>(
  target: Db | (() => Db),
  opts: EngineOptions,
  task: EvalTask<Summary>,
  onProgress?: (p: EvalProgress) => void,
  startedAt = performance.now(),
): Promise<EngineResult<Summary>> {
  const tList = performance.now();
  const ckpt = await loadCheckpoint(opts.modelDir, { variant: opts.variant, session: opts.session, preprocessConvention: opts.preprocessConvention, language: opts.language, scoring: opts.scoring, tokenizer: opts.tokenizer, fingerprintMemo: opts.cache ?? true });
  const tLoad = performance.now();
  let db: Db;
  try {
    db = typeof target === 'function' ? target() : target;
  } catch (err) {
    await ckpt.release();
    throw err;
  }
  const preprocess: PreprocessConfig = { ...ckpt.preprocess, ...task.preprocess };
  const preprocessKey = sha256(preprocess);
  const shard = opts.shard ? `${opts.shard.index}/${opts.shard.count}` : null;
  const identity = sha256({ model: ckpt.fingerprint, variant: ckpt.variant, ...task.identity(preprocess), ...linkIdentity(ckpt.scoring) });
  const cache = new EmbeddingCache(db, ckpt.fingerprint, ckpt.variant, opts.cache ?? true);
  const counts: CacheCounts = { textHits: 0, textMisses: 0, imageHits: 0, imageMisses: 0 };
  const selected = task.samples;
  const modelName = opts.name ?? ckpt.name;

  if (opts.skipFinished && opts.resume === undefined) {
    const earlier = findFinished(db, identity, shard);
    if (earlier !== undefined) {
      try {
        const run = getRun(db, earlier);
        const summary = await task.summarise(db, earlier);
        const header = { runId: earlier, resumed: false, doneEarlier: true as const, model: modelName, layout: ckpt.layout, variant: ckpt.variant, modelFingerprint: ckpt.fingerprint, shard };
        return { ...header, summary, params: run.params, timings: run.timings ?? {}, cache: counts };
      } finally {
        await ckpt.release();
      }
    }
  }

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
      create: () => {
        const record = task.record(ckpt, preprocess);
        return {
          modelName,
          modelDir: path.resolve(opts.modelDir),
          modelFingerprint: ckpt.fingerprint,
          modelLayout: ckpt.layout,
          modelVariant: ckpt.variant,
          executionProvider: ckpt.sessionOptions.executionProvider,
          ...record,
          params: { batchSize: opts.batchSize, limit: opts.limit ?? null, workers: opts.workers, preprocess, preprocessSources: ckpt.preprocessSources, scoring: ckpt.scoring, session: ckpt.sessionOptions, ...record.params },
          environment: { ...environment() },
          identity,
          shard,
        };
      },
    });
  } catch (err) {
    releaseOwner(owner);
    await ckpt.release();
    throw err;
  }
  const { runId, resumed } = claimed;
  const ctx: TaskContext = { ckpt, db, runId, cache, counts };

  const pool = createPreprocessPool({ threads: opts.workers, cfg: preprocess });
  /** batches being preprocessed or encoded, oldest first */
  const ahead: Promise<ImageOutcome[]>[] = [];
  try {
    // The image encoder's session loads while the text side is encoded, unless the images look cached (a re-score).
    const first = selected[0]?.sample;
    if (first && !cache.getImages(preprocessKey, [{ sample: cacheKey(first), stamp: fileStamp(first.path) }])[0]) ckpt.startImageEncoder();
    await task.encodeText(ctx, onProgress);
    await ckpt.releaseTextEncoder(); // the image phase needs only the text side's embeddings, not its session
    const tText = performance.now();
    const done = task.done(db, runId);
    const todo = selected.filter(({ idx }) => !done.has(idx));
    // Preprocessing runs in worker threads and the image encoder in its own (inference-thread.ts): with
    // LOOKAHEAD batches under way, the next batch is preprocessed while this one is encoded. Bounded, so
    // memory stays flat.
    const LOOKAHEAD = 2;
    const batchAt = (start: number) => todo.slice(start, start + opts.batchSize);
    const embed = (b: typeof todo) => {
      const batch = embedBatch(b, ckpt, pool, cache, preprocessKey, counts);
      // A look-ahead batch can fail (e.g. SQLITE_FULL writing the cache) while an earlier one is awaited: handled
      // here so it is not an unhandled rejection; awaiting it still throws, and after a failure it is moot.
      batch.catch(() => undefined);
      return batch;
    };
    for (let k = 0; k < LOOKAHEAD; k++) ahead.push(embed(batchAt(k * opts.batchSize)));
    for (let start = 0; start < todo.length; start += opts.batchSize) {
      const scored = await ahead.shift()!;
      if (opts.signal?.aborted) {
        markRun(db, runId, 'interrupted');
        throw new RunInterrupted(runId, done.size + start, selected.length);
      }
      ahead.push(embed(batchAt(start + LOOKAHEAD * opts.batchSize)));
      await task.scoreBatch(ctx, scored);
      onProgress?.({ stage: 'images', done: done.size + start + scored.length, total: selected.length });
    }
    await Promise.all(ahead); // the look-ahead past the last batch is empty; settle it before closing the pool
    const summary = await task.summarise(db, runId);
    const tEnd = performance.now();
    const timings = {
      listSeconds: (tList - startedAt) / 1000,
      loadSeconds: (tLoad - tList) / 1000,
      textSeconds: (tText - tLoad) / 1000,
      imageSeconds: (tEnd - tText) / 1000,
      totalSeconds: (tEnd - startedAt) / 1000,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
    finishRun(db, runId, { ...summary, timings });
    return {
      runId,
      resumed,
      model: modelName,
      layout: ckpt.layout,
      variant: ckpt.variant,
      modelFingerprint: ckpt.fingerprint,
      shard,
      summary,
      params: getRun(db, runId).params,
      timings,
      cache: counts,
    };
  } catch (err) {
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
    await task.release?.();
    await ckpt.release();
  }
}
