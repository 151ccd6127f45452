/**
 * What a checkpoint costs on this machine (`clip-bench cost`): the image encoder's throughput at the eval
 * batch size and its latency per image at batch 1, text prompts per second as eval feeds them, the peak
 * resident memory of an eval, and what the files say without running them: size on disk, parameters,
 * FLOPs per image. A benchmark: the times depend on the machine and its load, so the record names both.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mulberry32, normalArray } from '../fixtures/random.js';
import { onnxFileCost } from '../models/cost-graph.js';
import { loadCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import type { SessionOptions } from '../models/onnx-session.js';
import { loadPromptSet } from '../prompts/prompt-set.js';
import type { CostRecord } from '../store/cost.js';
import { openDb } from '../store/db.js';
import { rate, writeJpegs } from './bench.js';
import { environment } from './environment.js';
import { runZeroShot } from './zero-shot.js';

export interface CostOptions {
  modelDir: string;
  variant?: string;
  session?: Partial<SessionOptions>;
  batchSize: number;
  workers: number;
  /** generated 500×375 JPEGs for the eval whose peak memory is measured */
  images: number;
  /** ImageNet prompts for the text rate */
  prompts: number;
  /** seconds for each of the throughput and latency measurements */
  seconds: number;
  log?: (line: string) => void;
}

/** The machine a cost was measured on, as stored in its key: platform, cores, CPU model, memory. */
export function machineDescription(): string {
  const env = environment();
  return `${env.platform}, ${env.cpus} × ${env.cpuModel}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
}

/** Size on disk, parameters and FLOPs of the checkpoint's files: no session needed. */
export function staticCost(ckpt: Pick<Checkpoint, 'dir' | 'files' | 'layout' | 'visual' | 'textual'>): Pick<CostRecord, 'sizeBytes' | 'parameters' | 'imageFlops' | 'textFlops' | 'flopsNote'> {
  const sizeBytes = ckpt.files.reduce((s, f) => s + statSync(path.join(ckpt.dir, f)).size, 0);
  const visual = onnxFileCost(ckpt.visual.file, ckpt.visual.input.name);
  const combined = ckpt.visual.file === ckpt.textual.file;
  const textual = combined ? visual : onnxFileCost(ckpt.textual.file, ckpt.textual.input.name);
  const notes: string[] = [];
  if (combined) notes.push('one graph holds both towers: FLOPs per image not separable');
  else {
    if (visual.flops === null) notes.push(`image: ${visual.flopsUnknown}`);
    if (textual.flops === null) notes.push(`text: ${textual.flopsUnknown}`);
  }
  return {
    sizeBytes,
    parameters: visual.parameters + (combined ? 0 : textual.parameters),
    imageFlops: combined ? null : visual.flops,
    textFlops: combined ? null : textual.flops,
    flopsNote: notes.length ? notes.join('; ') : null,
  };
}

/** Median of `runs` timings of `fn`, in milliseconds, after one warm-up call. */
async function medianMs(fn: () => Promise<unknown>, seconds: number, minRuns = 5): Promise<number> {
  await fn();
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < minRuns || performance.now() - t0 < seconds * 1000) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const m = times.length >> 1;
  return times.length % 2 ? times[m] : (times[m - 1] + times[m]) / 2;
}

export async function measureCost(o: CostOptions): Promise<CostRecord> {
  const log = o.log ?? (() => undefined);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-cost-'));
  try {
    // The eval first, before this process has loaded anything else: its peak RSS is the eval's own.
    const root = path.join(tmp, 'jpegs');
    await writeJpegs(root, o.images);
    const db = openDb(path.join(tmp, 'eval.sqlite'));
    const evalRun = await runZeroShot(db, { modelDir: o.modelDir, variant: o.variant, dataset: 'imagefolder', root, prompts: 'single', batchSize: o.batchSize, workers: o.workers, cache: false, session: o.session });
    db.close();
    const peakRssMiB = evalRun.timings.peakRssMiB;
    log(`peak RSS of an eval of ${evalRun.n} JPEGs: ${peakRssMiB.toFixed(0)} MiB`);

    const ckpt = await loadCheckpoint(o.modelDir, { variant: o.variant, session: { ...o.session, inferenceWorker: false } });
    try {
      const size = ckpt.preprocess.size;
      const batch = normalArray(mulberry32(1), o.batchSize * 3 * size * size, 1);
      const imagesPerSecond = (await rate(() => ckpt.encodeImages(batch, o.batchSize), o.seconds)) * o.batchSize;
      log(`image encoder: ${imagesPerSecond.toFixed(1)} images/s at batch ${o.batchSize}`);
      const one = batch.subarray(0, 3 * size * size);
      const latencyMs = await medianMs(() => ckpt.encodeImages(one, 1), o.seconds);
      log(`image encoder: ${latencyMs.toFixed(1)} ms per image at batch 1 (median)`);

      // the paper's ImageNet prompts, in eval's batches, truncated as eval truncates them
      const imagenet = loadPromptSet('imagenet');
      const names = Object.values(imagenet.classes ?? {}).map((v) => (Array.isArray(v) ? v[0] : v));
      const texts = names.flatMap((n) => imagenet.templates.map((t) => t.replaceAll('{c}', n))).slice(0, o.prompts);
      await ckpt.encodeTexts(texts.slice(0, 8));
      const t0 = performance.now();
      for (let i = 0; i < texts.length; i += 128) await ckpt.encodeTexts(texts.slice(i, i + 128));
      const promptsPerSecond = texts.length / ((performance.now() - t0) / 1000);
      log(`text encoder: ${promptsPerSecond.toFixed(0)} prompts/s`);

      const fixed = staticCost(ckpt);
      return {
        fingerprint: ckpt.fingerprint,
        variant: ckpt.variant,
        executionProvider: ckpt.sessionOptions.executionProvider,
        machine: machineDescription(),
        modelName: ckpt.name,
        measuredAt: new Date().toISOString(),
        batchSize: o.batchSize,
        imagesPerSecond,
        latencyMs,
        promptsPerSecond,
        peakRssMiB,
        ...fixed,
        settings: { session: ckpt.sessionOptions, workers: o.workers, images: evalRun.n, prompts: texts.length, seconds: o.seconds, environment: environment() },
      };
    } finally {
      await ckpt.release();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
