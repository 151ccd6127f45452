/**
 * The engine's benchmark: how close end-to-end evaluation comes to the raw image-encoder limit, text
 * encoding at full and truncated length, and a cached re-score of many samples × classes.
 * Figures are ratios measured in one run: the machines this runs on are shared and noisy.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { mulberry32, normalArray } from '../fixtures/random.js';
import { loadCheckpoint } from '../models/checkpoint.js';
import { inferenceBusyMs } from '../models/inference-thread.js';
import { normaliseRows } from '../prompts/classifier.js';
import { loadPromptSet } from '../prompts/prompt-set.js';
import { EmbeddingCache } from '../store/cache.js';
import { openDb } from '../store/db.js';
import { packageRoot } from '../paths.js';
import { createRun, getRun, insertPredictions, type PredictionRow } from '../store/runs.js';
import { encodeTextsCached, spreadSubset } from './engine.js';
import { topK } from './metrics.js';
import { LogitScorer } from './scorer.js';
import { runZeroShot } from './zero-shot.js';

export interface BenchOptions {
  modelDir: string;
  variant?: string;
  batchSize: number;
  workers: number;
  threads: number;
  /** onnxruntime thread spinning (default: onnxruntime's, on) */
  spinning?: boolean;
  /** image encoder in its own worker thread during the end-to-end run (default: as `eval`) */
  inferenceWorker?: boolean;
  /** which measurements to take (default all): `raw` (a), `e2e` (b), `text` (c), `rescore` (d), `startup` (e) */
  parts?: readonly BenchPart[];
  /** images for the end-to-end run (500×375 JPEGs) */
  images: number;
  /** prompts for the full-length and cut-per-batch text measurements, spread evenly over ImageNet's 80,000 */
  prompts: number;
  /**
   * prompts for the bucketed measurements, as eval encodes them (spread the same way; 80,000 = all of them).
   * Buckets are as fine as the list is long: a short list's batches mix more lengths than all 80,000's do.
   */
  bucketedPrompts: number;
  /** a tokenizer for the text measurement instead of the model's own (`--tokenizer`): a fixture's toy vocabulary splits ImageNet's words into far more tokens than CLIP's BPE does */
  tokenizer?: string;
  rescoreSamples: number;
  rescoreClasses: number;
  log?: (line: string) => void;
}

export type BenchPart = 'raw' | 'e2e' | 'text' | 'rescore' | 'startup';

/** One `clip-bench eval` process of the startup measurement (e), its phases as the run records them. */
export interface StartupRun {
  /** spawn to exit */
  wallSeconds: number;
  /** model load: layout, tokenizer, fingerprint, sessions */
  loadSeconds: number;
  /** the text side (prompts encoded or read from the cache) */
  textSeconds: number;
  /** everything before the first image: listing, load and text */
  startupSeconds: number;
}

export interface BenchResult {
  model: string;
  /** the end-to-end run's session options and preprocessing workers, as recorded with the run */
  settings: { session: Record<string, unknown>; workers: number; batchSize: number };
  variant: string;
  embedDim: number;
  rawImagesPerSecond: number | null;
  /**
   * CPU time (all threads of this process) per image in (a) and (b): robust where wall time is not on a
   * shared machine. With perfect overlap on C cores, (b)/(a) cannot exceed rawCpu / endToEndCpu (the
   * encoder's share of all the work), when the encoder alone keeps all C cores busy.
   */
  rawCpuMsPerImage: number | null;
  /** share of the end-to-end image phase the inference worker spent in onnxruntime (null without the worker) */
  encoderBusy: number | null;
  endToEndCpuMsPerImage: number | null;
  /** images ÷ the image phase of (b) */
  endToEndImagesPerSecond: number | null;
  /** images ÷ the whole of (b), startup (listing, model load, prompts) included */
  endToEndWithStartupImagesPerSecond: number | null;
  /** (b) with startup ÷ (a): the target's ratio */
  endToEndOverRaw: number | null;
  /** (b)'s image phase alone ÷ (a) */
  imagePhaseOverRaw: number | null;
  /** (e): the same short `clip-bench eval` twice in fresh processes on one DB and cache folder */
  startup: { images: number; first: StartupRun; second: StartupRun } | null;
  peakRssMiB: number | null;
  textFullPerSecond: number | null;
  textTruncatedPerSecond: number | null;
  /** as eval encodes prompts: length buckets, batches of ≤ 256 rows and ≤ 4,096 tokens (null on a fixed-length graph) */
  textBucketedPerSecond: number | null;
  /** how many prompts the bucketed figure encoded */
  textBucketedPrompts: number | null;
  rescoreSeconds: number | null;
  rescoreSamples: number;
  rescoreClasses: number;
}

/** CPU milliseconds (user + system, every thread of this process) since the call. */
export function cpuMeter(): () => number {
  const start = process.cpuUsage();
  return () => {
    const d = process.cpuUsage(start);
    return (d.user + d.system) / 1000;
  };
}

/** Repeats `fn` until `seconds` have passed (at least `minRuns` times); returns runs per second. */
export async function rate(fn: () => Promise<unknown>, seconds: number, minRuns = 2): Promise<number> {
  await fn(); // warm-up: first runs allocate and plan
  let runs = 0;
  const t0 = performance.now();
  while (runs < minRuns || performance.now() - t0 < seconds * 1000) {
    await fn();
    runs++;
  }
  return runs / ((performance.now() - t0) / 1000);
}

/**
 * Random-content 500×375 JPEGs in an ImageFolder, image i in class folder `classes[i % classes.length]`;
 * the pixels of image i depend only on i, so every caller (bench, peer script) gets the same images.
 */
export async function writeJpegs(root: string, n: number, classes: readonly string[] = ['a', 'b']): Promise<void> {
  const rand = mulberry32(42);
  for (const c of classes) await mkdir(path.join(root, c), { recursive: true });
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
    await sharp(pixels, { raw: { width: 500, height: 375, channels: 3 } }).jpeg({ quality: 90 }).toFile(path.join(root, classes[i % classes.length], `${i}.jpg`));
  }
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const log = o.log ?? (() => undefined);
  const parts = new Set<BenchPart>(o.parts ?? ['raw', 'e2e', 'text', 'rescore', 'startup']);
  const session = { intraOpThreads: o.threads, spinning: o.spinning, inferenceWorker: o.inferenceWorker };
  // The limit is onnxruntime on this thread, with no worker in between.
  const ckpt = await loadCheckpoint(o.modelDir, { variant: o.variant, tokenizer: o.tokenizer, session: { ...session, inferenceWorker: false } });
  const size = ckpt.preprocess.size;
  const dim = ckpt.embedDim;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-bench-'));
  const out: BenchResult = {
    model: ckpt.name,
    settings: { session: {}, workers: o.workers, batchSize: o.batchSize },
    variant: ckpt.variant,
    embedDim: dim,
    rawImagesPerSecond: null,
    rawCpuMsPerImage: null,
    encoderBusy: null,
    endToEndCpuMsPerImage: null,
    endToEndImagesPerSecond: null,
    endToEndWithStartupImagesPerSecond: null,
    endToEndOverRaw: null,
    imagePhaseOverRaw: null,
    startup: null,
    peakRssMiB: null,
    textFullPerSecond: null,
    textTruncatedPerSecond: null,
    textBucketedPerSecond: null,
    textBucketedPrompts: null,
    rescoreSeconds: null,
    rescoreSamples: o.rescoreSamples,
    rescoreClasses: o.rescoreClasses,
  };
  try {
    // (a) the limit: the image encoder alone on a preallocated batch, measured before and after (b) and
    // averaged, so that a change in the machine's load during the run colours both alike
    const batch = normalArray(mulberry32(1), o.batchSize * 3 * size * size, 1);
    const raws: { rate: number; cpuMs: number }[] = [];
    const measureRaw = async () => {
      const cpu = cpuMeter();
      let images = 0;
      const r = (await rate(() => ckpt.encodeImages(batch, o.batchSize).then(() => (images += o.batchSize)), 5)) * o.batchSize;
      raws.push({ rate: r, cpuMs: cpu() / images });
      out.rawImagesPerSecond = raws.reduce((s, x) => s + x.rate, 0) / raws.length;
      out.rawCpuMsPerImage = raws.reduce((s, x) => s + x.cpuMs, 0) / raws.length;
      log(`(a) image encoder alone     ${r.toFixed(1)} images/s (batch ${o.batchSize}, this thread); CPU ${raws.at(-1)!.cpuMs.toFixed(0)} ms/image`);
    };
    if (parts.has('raw')) await measureRaw();

    // (c) text: the paper's ImageNet prompts, at full length and truncated to the longest end-of-text
    if (parts.has('text')) {
      const imagenet = loadPromptSet('imagenet');
      const names = Object.values(imagenet.classes ?? {}).map((v) => (Array.isArray(v) ? v[0] : v));
      // spread evenly over all 80,000 prompts, so their lengths are distributed as ImageNet's are
      const all = names.flatMap((n) => imagenet.templates.map((t) => t.replaceAll('{c}', n)));
      const texts = spreadSubset(all, o.prompts);
      const full = await loadCheckpoint(o.modelDir, { variant: o.variant, tokenizer: o.tokenizer, session, fullLengthText: true });
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
      // as eval encodes them: every prompt once, in length buckets (engine.ts inLengthBuckets), no cache
      let textBucketed: number | null = null;
      const bucketedTexts = spreadSubset(all, o.bucketedPrompts);
      if (dynamic) {
        await encodeTextsCached(ckpt, bucketedTexts.slice(0, 8), 256); // warm-up, as textRate's
        const t0 = performance.now();
        await encodeTextsCached(ckpt, bucketedTexts, 256); // eval's text batch (zero-shot.ts)
        textBucketed = bucketedTexts.length / ((performance.now() - t0) / 1000);
      }
      out.textBucketedPrompts = dynamic ? bucketedTexts.length : null;
      out.textFullPerSecond = textFull;
      out.textTruncatedPerSecond = textCut;
      out.textBucketedPerSecond = textBucketed;
      log(
        `(c) text encoder            ${textFull.toFixed(0)} prompts/s at full length` +
          (textCut && textBucketed
            ? `, ${textCut.toFixed(0)} cut per batch in prompt order (×${(textCut / textFull).toFixed(1)}), ${textBucketed.toFixed(0)} over ${bucketedTexts.length} prompts in length buckets (×${(textBucketed / textFull).toFixed(1)}): ImageNet's ${all.length} prompts in ${(all.length / textBucketed / 60).toFixed(1)} min${bucketedTexts.length < all.length ? ' (projected)' : ''}`
            : ' (fixed-length graph: no truncation possible)'),
      );
    }

    // (b) end to end: decode → preprocess → encode → score → SQLite, caches off
    if (parts.has('e2e')) {
      const root = path.join(tmp, 'jpegs');
      await writeJpegs(root, o.images);
      const file = path.join(tmp, 'e2e.sqlite');
      const db = openDb(file);
      // CPU from the first image-phase progress event to the last: the image phase minus its first batch
      let cpu: (() => number) | undefined;
      let cpuFrom = 0;
      const busy0 = inferenceBusyMs();
      const r = await runZeroShot(
        db,
        { modelDir: o.modelDir, variant: o.variant, dataset: 'imagefolder', root, prompts: 'single', batchSize: o.batchSize, workers: o.workers, cache: false, session },
        (p) => {
          if (p.stage !== 'images') return;
          if (!cpu) [cpu, cpuFrom] = [cpuMeter(), p.done];
          else if (p.done === p.total) out.endToEndCpuMsPerImage = cpu() / (p.done - cpuFrom);
        },
      );
      out.settings.session = getRun(db, r.runId).params.session as Record<string, unknown>;
      db.close();
      const e2e = r.n / r.timings.imageSeconds;
      const e2eWithStartup = r.n / r.timings.totalSeconds;
      out.encoderBusy = out.settings.session.inferenceWorker ? (inferenceBusyMs() - busy0) / 1000 / r.timings.imageSeconds : null;
      if (parts.has('raw')) await measureRaw();
      out.endToEndImagesPerSecond = e2e;
      out.endToEndWithStartupImagesPerSecond = e2eWithStartup;
      out.peakRssMiB = r.timings.peakRssMiB;
      const s = out.settings.session;
      const how = `${o.workers} preprocessing workers, intra-op threads ${s.intraOpThreads || 'default'}, spinning ${s.spinning ? 'on' : 'off'}, inference ${s.inferenceWorker ? 'in a worker' : 'on the main thread'}`;
      const startup = r.timings.totalSeconds - r.timings.imageSeconds;
      if (out.rawImagesPerSecond !== null) {
        out.endToEndOverRaw = e2eWithStartup / out.rawImagesPerSecond;
        out.imagePhaseOverRaw = e2e / out.rawImagesPerSecond;
        log(
          `(b) end to end              ${e2eWithStartup.toFixed(1)} images/s over ${r.n} 500×375 JPEGs, startup (${startup.toFixed(1)} s) included = ${(100 * out.endToEndOverRaw).toFixed(1)}% of (a) (mean of the two); ` +
            `image phase alone ${e2e.toFixed(1)} images/s = ${(100 * out.imagePhaseOverRaw).toFixed(1)}%; peak RSS ${r.timings.peakRssMiB.toFixed(0)} MiB`,
        );
      } else log(`(b) end to end              ${e2eWithStartup.toFixed(1)} images/s over ${r.n} 500×375 JPEGs, startup (${startup.toFixed(1)} s) included; image phase alone ${e2e.toFixed(1)}; peak RSS ${r.timings.peakRssMiB.toFixed(0)} MiB`);
      log(`    settings: ${how}`);
      if (out.encoderBusy !== null) log(`    the encoder was busy ${(100 * out.encoderBusy).toFixed(0)}% of the image phase`);
      if (out.endToEndCpuMsPerImage !== null) {
        const ceiling = out.rawCpuMsPerImage !== null ? `; (a)'s share of it ${((100 * out.rawCpuMsPerImage) / out.endToEndCpuMsPerImage).toFixed(0)}% = the ceiling of (b)/(a) with perfect overlap` : '';
        log(`    CPU ${out.endToEndCpuMsPerImage.toFixed(0)} ms/image end to end, all threads${ceiling}`);
      }
    }

    // (e) startup: a short eval twice, each in a fresh process; the second finds the fingerprint memo and the
    // prompts in the cache (the OS page cache is warm for both: the model was just read)
    if (parts.has('startup')) {
      const root = path.join(tmp, 'startup-jpegs');
      const images = Math.min(32, Math.max(1, o.images));
      await writeJpegs(root, images);
      const cacheDir = path.join(tmp, 'startup-cache');
      const runOnce = () => timedEval(o, root, path.join(tmp, 'startup.sqlite'), cacheDir);
      const first = runOnce();
      const second = runOnce();
      out.startup = { images, first, second };
      const line = (x: StartupRun) => `${x.startupSeconds.toFixed(2)} s before the first image (load ${x.loadSeconds.toFixed(2)}, text ${x.textSeconds.toFixed(2)}), ${x.wallSeconds.toFixed(2)} s in all`;
      log(`(e) startup, first eval     ${line(first)}`);
      log(`    second eval             ${line(second)}; first ÷ second ${(first.startupSeconds / second.startupSeconds).toFixed(2)} (the second finds the fingerprint memo and its prompts cached)`);
    }

    // (d) cached re-score: embeddings read from the cache, logits, top-5, predictions written
    if (parts.has('rescore')) {
      out.rescoreSeconds = await rescore(path.join(tmp, 'rescore.sqlite'), o.rescoreSamples, o.rescoreClasses, dim);
      log(`(d) cached re-score         ${o.rescoreSamples} samples × ${o.rescoreClasses} classes in ${out.rescoreSeconds.toFixed(2)} s`);
    }
    return out;
  } finally {
    await ckpt.release();
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

/** `clip-bench eval` on `root` in a process of its own (caches on), with the phases its run recorded. */
function timedEval(o: BenchOptions, root: string, db: string, cacheDir: string): StartupRun {
  const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
  const args = [bin, 'eval', '--model', o.modelDir, '--dataset', 'imagefolder', '--root', root, '--prompts', 'single', '--db', db, '--workers', String(o.workers), '--batch-size', String(o.batchSize), '--quiet', '--json'];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...args, ...(o.variant ? ['--variant', o.variant] : [])], { encoding: 'utf8', env: { ...process.env, CLIP_BENCH_CACHE_DIR: cacheDir } });
  const wallSeconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`clip-bench eval failed (exit ${r.status}): ${r.stderr.trim().split('\n').at(-1)}`);
  const t = (JSON.parse(r.stdout) as { timings: Record<string, number> }).timings;
  return { wallSeconds, loadSeconds: t.loadSeconds, textSeconds: t.textSeconds, startupSeconds: t.totalSeconds - t.imageSeconds };
}
