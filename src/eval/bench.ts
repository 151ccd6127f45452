/**
 * The engine's benchmark: how close end-to-end evaluation comes to the raw image-encoder limit, text
 * encoding at full and truncated length, and a cached re-score of many samples × classes.
 * Figures are ratios measured in one run: the machines this runs on are shared and noisy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { mulberry32, normalArray } from '../fixtures/random.js';
import { loadCheckpoint } from '../models/checkpoint.js';
import { normaliseRows } from '../prompts/classifier.js';
import { loadPromptSet } from '../prompts/prompt-set.js';
import { EmbeddingCache } from '../store/cache.js';
import { openDb } from '../store/db.js';
import { createRun, insertPredictions, type PredictionRow } from '../store/runs.js';
import { topK } from './metrics.js';
import { LogitScorer } from './scorer.js';
import { runZeroShot } from './zero-shot.js';

export interface BenchOptions {
  modelDir: string;
  variant?: string;
  batchSize: number;
  workers: number;
  threads: number;
  /** images for the end-to-end run (500×375 JPEGs) */
  images: number;
  /** prompts for the text measurement */
  prompts: number;
  rescoreSamples: number;
  rescoreClasses: number;
  log?: (line: string) => void;
}

export interface BenchResult {
  model: string;
  variant: string;
  embedDim: number;
  rawImagesPerSecond: number;
  endToEndImagesPerSecond: number;
  endToEndOverRaw: number;
  peakRssMiB: number;
  textFullPerSecond: number;
  textTruncatedPerSecond: number | null;
  rescoreSeconds: number;
  rescoreSamples: number;
  rescoreClasses: number;
}

/** Repeats `fn` until `seconds` have passed (at least `minRuns` times); returns runs per second. */
async function rate(fn: () => Promise<unknown>, seconds: number, minRuns = 2): Promise<number> {
  await fn(); // warm-up: first runs allocate and plan
  let runs = 0;
  const t0 = performance.now();
  while (runs < minRuns || performance.now() - t0 < seconds * 1000) {
    await fn();
    runs++;
  }
  return runs / ((performance.now() - t0) / 1000);
}

/** Random-content 500×375 JPEGs in a two-class ImageFolder. */
async function writeJpegs(root: string, n: number): Promise<void> {
  const rand = mulberry32(42);
  for (const c of ['a', 'b']) await mkdir(path.join(root, c), { recursive: true });
  const pixels = Buffer.alloc(500 * 375 * 3);
  for (let i = 0; i < n; i++) {
    // smooth gradients plus noise, so JPEG sizes are realistic
    const [r0, g0, b0] = [rand(), rand(), rand()].map((v) => v * 255);
    for (let p = 0, y = 0; y < 375; y++) for (let x = 0; x < 500; x++, p += 3) {
      const noise = (rand() - 0.5) * 40;
      pixels[p] = (r0 + x * 0.2 + noise) & 255;
      pixels[p + 1] = (g0 + y * 0.3 + noise) & 255;
      pixels[p + 2] = (b0 + (x + y) * 0.1 + noise) & 255;
    }
    await sharp(pixels, { raw: { width: 500, height: 375, channels: 3 } }).jpeg({ quality: 90 }).toFile(path.join(root, i % 2 ? 'b' : 'a', `${i}.jpg`));
  }
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const log = o.log ?? (() => undefined);
  const session = { intraOpThreads: o.threads };
  const ckpt = await loadCheckpoint(o.modelDir, { variant: o.variant, session });
  const size = ckpt.preprocess.size;
  const dim = ckpt.embedDim;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-bench-'));
  try {
    // (a) the limit: the image encoder alone on a preallocated batch
    const batch = normalArray(mulberry32(1), o.batchSize * 3 * size * size, 1);
    const raw = (await rate(() => ckpt.encodeImages(batch, o.batchSize), 5)) * o.batchSize;
    log(`(a) image encoder alone     ${raw.toFixed(1)} images/s (batch ${o.batchSize})`);

    // (c) text: the paper's ImageNet prompts, at full length and truncated to the longest end-of-text
    const imagenet = loadPromptSet('imagenet');
    const names = Object.values(imagenet.classes ?? {}).map((v) => (Array.isArray(v) ? v[0] : v));
    const texts = names.flatMap((n) => imagenet.templates.map((t) => t.replaceAll('{c}', n))).slice(0, o.prompts);
    const full = await loadCheckpoint(o.modelDir, { variant: o.variant, session, fullLengthText: true });
    // One timed pass over all prompts after a small warm-up: a full-length pass of a ViT-B/32 text
    // tower costs ~6 GFLOP per prompt, so repeating it would take minutes.
    const textRate = async (encode: (t: string[]) => Promise<unknown>) => {
      await encode(texts.slice(0, 8));
      const t0 = performance.now();
      for (let i = 0; i < texts.length; i += 128) await encode(texts.slice(i, i + 128));
      return texts.length / ((performance.now() - t0) / 1000);
    };
    const textFull = await textRate((t) => full.encodeTexts(t));
    await full.release();
    const dynamic = typeof ckpt.textual.input.shape[1] !== 'number';
    const textCut = dynamic ? await textRate((t) => ckpt.encodeTexts(t)) : null;
    log(`(c) text encoder            ${textFull.toFixed(0)} prompts/s at full length` + (textCut ? `, ${textCut.toFixed(0)} truncated (×${(textCut / textFull).toFixed(1)})` : ' (fixed-length graph: no truncation possible)'));
    await ckpt.release();

    // (b) end to end: decode → preprocess → encode → score → SQLite, caches off
    const root = path.join(tmp, 'jpegs');
    await writeJpegs(root, o.images);
    const db = openDb(path.join(tmp, 'e2e.sqlite'));
    const r = await runZeroShot(db, { modelDir: o.modelDir, variant: o.variant, dataset: 'imagefolder', root, prompts: 'single', batchSize: o.batchSize, workers: o.workers, cache: false, session });
    db.close();
    const e2e = r.n / r.timings.imageSeconds;
    log(`(b) end to end              ${e2e.toFixed(1)} images/s over ${r.n} 500×375 JPEGs = ${(100 * (e2e / raw)).toFixed(0)}% of (a); peak RSS ${r.timings.peakRssMiB.toFixed(0)} MiB`);

    // (d) cached re-score: embeddings read from the cache, logits, top-5, predictions written
    const rescoreSeconds = await rescore(path.join(tmp, 'rescore.sqlite'), o.rescoreSamples, o.rescoreClasses, dim);
    log(`(d) cached re-score         ${o.rescoreSamples} samples × ${o.rescoreClasses} classes in ${rescoreSeconds.toFixed(2)} s`);
    return {
      model: ckpt.name,
      variant: ckpt.variant,
      embedDim: dim,
      rawImagesPerSecond: raw,
      endToEndImagesPerSecond: e2e,
      endToEndOverRaw: e2e / raw,
      peakRssMiB: r.timings.peakRssMiB,
      textFullPerSecond: textFull,
      textTruncatedPerSecond: textCut,
      rescoreSeconds,
      rescoreSamples: o.rescoreSamples,
      rescoreClasses: o.rescoreClasses,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Times the re-score path on synthetic cached embeddings: cache read, logits, top-5, prediction rows. */
async function rescore(file: string, n: number, classes: number, dim: number): Promise<number> {
  const db = openDb(file);
  const rand = mulberry32(7);
  const cache = new EmbeddingCache(db, 'bench', 'fp32');
  const items = Array.from({ length: n }, (_, i) => ({ sample: `/bench/${i}.jpg`, stamp: '1:1' }));
  const chunk = 1024;
  for (let s = 0; s < n; s += chunk) {
    const emb = normaliseRows(normalArray(rand, Math.min(chunk, n - s) * dim, 1), dim);
    cache.putImages('p', items.slice(s, s + chunk).map((it, i) => ({ ...it, embedding: emb.subarray(i * dim, (i + 1) * dim) })));
  }
  const classifier = normaliseRows(normalArray(rand, classes * dim, 1), dim);
  const runId = createRun(db, {
    modelName: 'bench', modelDir: '-', modelFingerprint: 'bench', modelLayout: 'immich', modelVariant: 'fp32', executionProvider: 'cpu',
    dataset: 'bench', datasetRoot: '-', split: 'all', nClasses: classes, promptSet: 'bench', promptHash: '-', params: {}, environment: {}, identity: 'bench', shard: null,
  });
  const t0 = performance.now();
  const scorer = await LogitScorer.create(classifier, dim);
  for (let s = 0; s < n; s += chunk) {
    const part = items.slice(s, s + chunk);
    const cached = cache.getImages('p', part);
    const emb = new Float32Array(part.length * dim);
    cached.forEach((e, i) => emb.set(e!, i * dim));
    const logits = await scorer.logits(emb);
    const rows: PredictionRow[] = part.map((it, i) => {
      const row = logits.subarray(i * classes, (i + 1) * classes);
      const top5 = topK(row, 5);
      return { idx: s + i, key: it.sample, label: 0, top5, top5Logits: top5.map((c) => row[c]), error: null };
    });
    insertPredictions(db, runId, rows);
  }
  const seconds = (performance.now() - t0) / 1000;
  await scorer.release();
  db.close();
  return seconds;
}
