/**
 * `npm run bench:profile` (issue 18): each stage of the image pipeline measured alone on the same
 * generated 500×375 JPEGs in one process — decode, resample, transfer, session, store — then the real
 * end-to-end run, and which stage bounds it (arithmetic in src/eval/stage-profile.ts). Wall time and CPU
 * time of all threads of the process for each; rates per core are images per CPU second.
 *
 *   npm run build && node dist/scripts/bench-profile.js [--arch tiny|vit-b-32] [--images 2100] [--workers 2] [--batch-size 32] [--json]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { cpuMeter, writeJpegs } from '../src/eval/bench.js';
import { profileSummary, profileTable, type ProfileStage, type StageMeasure } from '../src/eval/stage-profile.js';
import { LogitScorer } from '../src/eval/scorer.js';
import { topK } from '../src/eval/metrics.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import type { ClipArchSize } from '../src/fixtures/clip-arch.js';
import { fixtureTexts, writeClipArch } from '../src/fixtures/fixture-models.js';
import { mulberry32, normalArray } from '../src/fixtures/random.js';
import { loadCheckpoint, type Checkpoint } from '../src/models/checkpoint.js';
import { inferenceBusyMs } from '../src/models/inference-thread.js';
import { createPreprocessPool, decodeImage, type PreprocessConfig, type RawImage } from '../src/models/preprocess/index.js';
import { topConfidence } from '../src/models/scoring-link.js';
import { normaliseRows } from '../src/prompts/classifier.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { createRun, insertPredictions, type PredictionRow } from '../src/store/runs.js';
import { scriptArgs } from './args.js';

const USAGE = `
npm run build && node dist/scripts/bench-profile.js [--arch tiny|vit-b-32] [--images 2100] [--workers 2] [--batch-size 32] [--json]
`;
const values = scriptArgs('bench-profile', USAGE, {
  arch: { type: 'string', default: 'tiny' },
  images: { type: 'string', default: '2100' },
  workers: { type: 'string', default: String(Math.min(2, os.availableParallelism())) },
  'batch-size': { type: 'string', default: '32' },
  json: { type: 'boolean', default: false },
});
const arch = values.arch as ClipArchSize;
const images = Number(values.images);
const workers = Number(values.workers);
const batchSize = Number(values['batch-size']);
const cores = os.availableParallelism();
/** the pool's default of images handed to one worker at a time (pool.ts) */
const PER_WORKER = 2;

/** How each stage is isolated: printed with the table and kept in the JSON. */
const METHODS: Record<ProfileStage | 'endToEnd', string> = {
  decode: `read + decode (readImageFileSync, decodeImage: sharp) in ${workers} worker threads of this script, ${PER_WORKER} images in flight each, as the pool's workers; pixels discarded`,
  resample: 'measured directly: the real pool (createPreprocessPool) on already-decoded images (PIL-exact resize, crop, normalise to CHW float); each decoded image is copied to its worker, which the path-fed pipeline does not do',
  transfer: `filling ckpt.imageBatch(${batchSize}) from preprocessed images, plus the round trip to the inference worker: wall = worker round trips − the worker's own onnxruntime time; CPU = the fill's + (fill-and-encode via the worker − the same on this thread, if positive)`,
  session: `the image encoder alone on this thread at batch ${batchSize} on a preallocated input (runBench part a)`,
  store: `LogitScorer logits for a batch of ${batchSize} unit embeddings against the 2-class classifier, top-5, confidence, insertPredictions into SQLite (as zero-shot's scoreBatch)`,
  endToEnd: 'runZeroShot over the same JPEGs, caches off (runBench part b); wall and CPU from the first image-phase progress event to the last',
};

/** Wall seconds and CPU ms (all threads) of `fn`, for `n` images. */
async function measure(n: number, fn: () => Promise<unknown>): Promise<StageMeasure> {
  const cpu = cpuMeter();
  const t0 = performance.now();
  await fn();
  return { images: n, wallSeconds: (performance.now() - t0) / 1000, cpuMs: cpu() };
}

/** Runs `task(i)` for i < n with at most `inFlight` pending, so results are not all held at once. */
async function drain(n: number, inFlight: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

/** Decode stage: the files split over `workers` threads decoding as the pool's do. */
async function decodeStage(files: string[], cfg: PreprocessConfig): Promise<StageMeasure> {
  const url = new URL('./profile-decode-worker.js', import.meta.url);
  const threads = await Promise.all(
    Array.from({ length: workers }, () => {
      const w = new Worker(url, { workerData: { cfg, perWorker: PER_WORKER } });
      return new Promise<Worker>((resolve, reject) => w.once('message', () => resolve(w)).once('error', reject));
    }),
  );
  // warm-up: sharp's first decode loads and plans
  await Promise.all(threads.map((w, t) => new Promise((r) => w.once('message', r).postMessage({ files: files.slice(t, t + PER_WORKER) }))));
  const m = await measure(files.length, () =>
    Promise.all(threads.map((w, t) => new Promise((r) => w.once('message', r).postMessage({ files: files.filter((_, i) => i % workers === t) })))),
  );
  await Promise.all(threads.map((w) => w.terminate()));
  return m;
}

/** Resample stage: the real pool on a few decoded images, cycled; also returns a batch of its outputs for the transfer stage. */
async function resampleStage(files: string[], cfg: PreprocessConfig): Promise<{ m: StageMeasure; batch: Float32Array[] }> {
  const decoded: RawImage[] = [];
  for (const f of files.slice(0, 16)) decoded.push(await decodeImage(f, { maxPixels: cfg.maxPixels, applyExifOrientation: cfg.applyExifOrientation }));
  const pool = createPreprocessPool({ threads: workers, cfg, perWorker: PER_WORKER });
  const batch: Float32Array[] = [];
  try {
    for (let i = 0; i < batchSize; i++) batch.push(await pool.run(decoded[i % decoded.length])); // warm-up
    const m = await measure(files.length, () => drain(files.length, workers * PER_WORKER, (i) => pool.run(decoded[i % decoded.length])));
    return { m, batch };
  } finally {
    await pool.close();
  }
}

const fill = (pixels: Float32Array, batch: readonly Float32Array[]) => batch.forEach((p, j) => pixels.set(p, j * p.length));

/** Session stage and the two fill-and-encode loops the transfer stage is taken from. */
async function encoderStages(modelDir: string, batch: Float32Array[]): Promise<{ session: StageMeasure; transfer: StageMeasure; note: string }> {
  const batches = Math.ceil(images / batchSize);
  const n = batches * batchSize;
  const main = await loadCheckpoint(modelDir, { session: { inferenceWorker: false } });
  const size = main.preprocess.size;
  let session: StageMeasure, fillOnly: StageMeasure, here: StageMeasure;
  try {
    const input = normalArray(mulberry32(1), batchSize * 3 * size * size, 1);
    await main.encodeImages(input, batchSize); // warm-up
    session = await measure(n, async () => {
      for (let b = 0; b < batches; b++) await main.encodeImages(input, batchSize);
    });
    const own = main.imageBatch(batchSize);
    fillOnly = await measure(n, async () => {
      for (let b = 0; b < batches; b++) fill(own, batch);
    });
    here = await measure(n, async () => {
      for (let b = 0; b < batches; b++) {
        const pixels = main.imageBatch(batchSize);
        fill(pixels, batch);
        await main.encodeImages(pixels, batchSize);
      }
    });
  } finally {
    await main.release();
  }
  const viaWorker: Checkpoint = await loadCheckpoint(modelDir, { session: { inferenceWorker: true } });
  let worker: StageMeasure, busyMs: number;
  try {
    const roundTrip = async () => {
      const pixels = viaWorker.imageBatch(batchSize);
      fill(pixels, batch);
      await viaWorker.encodeImages(pixels, batchSize);
    };
    await roundTrip(); // warm-up: starts the worker
    const busy0 = inferenceBusyMs();
    worker = await measure(n, async () => {
      for (let b = 0; b < batches; b++) await roundTrip();
    });
    busyMs = inferenceBusyMs() - busy0;
  } finally {
    await viaWorker.release();
  }
  const overheadCpu = worker.cpuMs - here.cpuMs;
  const transfer = { images: n, wallSeconds: Math.max(worker.wallSeconds - busyMs / 1000, fillOnly.wallSeconds), cpuMs: fillOnly.cpuMs + Math.max(0, overheadCpu) };
  const note =
    `transfer: fill ${((1000 * fillOnly.wallSeconds) / batches).toFixed(2)} ms/batch; round trip via the worker ${((1000 * worker.wallSeconds) / batches).toFixed(2)} ms/batch of which onnxruntime ${(busyMs / batches).toFixed(2)}; ` +
    `CPU via the worker − on this thread ${(overheadCpu / n).toFixed(3)} ms/image${overheadCpu < 0 ? ' (negative: noise, counted as 0)' : ''}`;
  return { session, transfer, note };
}

/** Store stage: scoring and writing predictions, batch by batch, as zero-shot's scoreBatch does. */
async function storeStage(file: string, ckpt: Pick<Checkpoint, 'embedDim' | 'scoring'>): Promise<StageMeasure> {
  const dim = ckpt.embedDim;
  const nClasses = 2;
  const rand = mulberry32(7);
  const db = openDb(file);
  const runId = createRun(db, {
    modelName: 'profile', modelDir: '-', modelFingerprint: 'profile', modelLayout: 'hf-split', modelVariant: 'fp32', executionProvider: 'cpu',
    dataset: 'profile', datasetRoot: '-', split: 'all', nClasses, promptSet: 'single', promptHash: '-', params: {}, environment: {}, identity: 'profile', shard: null,
  });
  const scorer = await LogitScorer.create(normaliseRows(normalArray(rand, nClasses * dim, 1), dim), dim);
  const emb = normaliseRows(normalArray(rand, batchSize * dim, 1), dim);
  const scoreBatch = async (start: number) => {
    const logits = await scorer.logits(emb);
    const rows: PredictionRow[] = Array.from({ length: batchSize }, (_, i) => {
      const row = logits.subarray(i * nClasses, (i + 1) * nClasses);
      const top5 = topK(row, 5);
      return { idx: start + i, key: `/profile/${start + i}.jpg`, label: i % nClasses, top5, top5Logits: top5.map((c) => row[c]), error: null, confidence: topConfidence(ckpt.scoring, row, top5[0]) };
    });
    insertPredictions(db, runId, rows);
  };
  const batches = Math.ceil(images / batchSize);
  try {
    await scoreBatch(-batchSize); // warm-up
    return await measure(batches * batchSize, async () => {
      for (let b = 0; b < batches; b++) await scoreBatch(b * batchSize);
    });
  } finally {
    await scorer.release();
    db.close();
  }
}

/** End to end: runZeroShot, caches off; the window runs from the first image-phase progress event to the last. */
async function endToEndStage(modelDir: string, root: string, file: string): Promise<StageMeasure> {
  const db = openDb(file);
  let cpu: (() => number) | undefined;
  let from = { done: 0, t: 0 };
  let m: StageMeasure | undefined;
  try {
    await runZeroShot(db, { modelDir, dataset: 'imagefolder', root, prompts: 'single', batchSize, workers, cache: false, session: { intraOpThreads: 0 } }, (p) => {
      if (p.stage !== 'images') return;
      if (!cpu) [cpu, from] = [cpuMeter(), { done: p.done, t: performance.now() }];
      else if (p.done === p.total) m = { images: p.done - from.done, wallSeconds: (performance.now() - from.t) / 1000, cpuMs: cpu() };
    });
  } finally {
    db.close();
  }
  if (!m) throw new Error('the end-to-end run reported no image progress: too few images for a window (use --images ≥ 2 batches)');
  return m;
}

const dir = path.join('fixtures', `clip-${arch}-hf`);
if (!existsSync(dir)) {
  const t0 = performance.now();
  await writeClipArch(dir, arch, fixtureTexts(loadPromptSet('colours').templates), { layout: 'hf-split' });
  console.log(`wrote ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const machine = `${cores} × ${os.cpus()[0]?.model}; node ${process.version}`;
console.log(`${machine}; model ${dir}; ${images} 500×375 JPEGs, ${workers} workers, batch ${batchSize}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-profile-'));
try {
  const root = path.join(tmp, 'jpegs');
  await writeJpegs(root, images);
  const files = Array.from({ length: images }, (_, i) => path.join(root, ['a', 'b'][i % 2], `${i}.jpg`));
  const probe = await loadCheckpoint(dir, { session: { inferenceWorker: false } });
  const { preprocess: cfg, embedDim, scoring } = probe;
  await probe.release();

  const decode = await decodeStage(files, cfg);
  const { m: resample, batch } = await resampleStage(files, cfg);
  const store = await storeStage(path.join(tmp, 'store.sqlite'), { embedDim, scoring });
  const { session, transfer, note } = await encoderStages(dir, batch);
  const endToEnd = await endToEndStage(dir, root, path.join(tmp, 'e2e.sqlite'));
  const loadDuring = os.loadavg()[0];

  const stages = { decode, resample, transfer, session, store };
  const summary = profileSummary(stages, endToEnd, cores);
  console.log(`\n${profileTable(summary)}\n${note}; load average (1 min) at the end ${loadDuring.toFixed(2)}`);
  console.log(`\nhow each stage was measured:\n${Object.entries(METHODS).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
  if (values.json) console.log(JSON.stringify({ machine, model: dir, arch, images, workers, batchSize, loadAverage: loadDuring, methods: METHODS, measures: { ...stages, endToEnd }, transferNote: note, summary }));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
