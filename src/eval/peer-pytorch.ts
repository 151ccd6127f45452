/**
 * The PyTorch peer (`npm run bench:pytorch`): the same random-weight CLIP ViT (src/fixtures/clip-arch.ts, the
 * fixture bench-engine uses) and the same JPEGs through `clip-bench eval` and through scripts/peer-pytorch.py,
 * each as a whole process, timed from start to exit; then their embeddings compared, so that the two
 * pipelines are known to compute the same thing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomClipWeights, type ClipArchWeights } from '../fixtures/clip-arch.js';
import { archTowers, fixtureTexts, writeClipArch } from '../fixtures/fixture-models.js';
import { loadCheckpoint } from '../models/checkpoint.js';
import { preprocessImage } from '../models/preprocess/index.js';
import { packageRoot } from '../paths.js';
import { loadPromptSet } from '../prompts/prompt-set.js';
import { writeJpegs } from './bench.js';

export type PeerArch = 'vit-b-32' | 'tiny';

export interface PeerOptions {
  arch: PeerArch;
  images: number;
  workers: number;
  batchSize: number;
  python: string;
  log?: (line: string) => void;
}

export interface PeerResult {
  arch: PeerArch;
  images: number;
  workers: number;
  /** `clip-bench eval`, whole process (startup, prompts, images, SQLite) */
  clipBenchSeconds: number;
  clipBenchImagesPerSecond: number;
  /** scripts/peer-pytorch.py, whole process */
  pytorchSeconds: number;
  pytorchImagesPerSecond: number;
  /** PyTorch's image loop alone (its DataLoader and model, no imports or weights) */
  pytorchLoopImagesPerSecond: number;
  pytorchStartupSeconds: number;
  openblasCoretype: string | null;
  /** the BLAS Debian's torch loads (the libblas.so.3 alternative): the reference BLAS would make PyTorch look several times slower */
  blas: string | null;
  ratio: number;
  /** the smallest cosine between the two pipelines' embeddings of the first images */
  minCosine: number;
  compared: number;
}

/** The goal for the ratio: ≥ 1.3 × on ViT-B/32 (compute-bound), ≥ 2 × on the tiny model (pipeline-bound). */
export const PEER_GOAL: Record<PeerArch, number> = { 'vit-b-32': 1.3, tiny: 2 };

/** Debian's OpenBLAS 0.3.21 takes generic kernels on recent CPUs unless told which: the best this CPU has. */
export function openblasCoretype(cpuFlags: string): string | null {
  const flags = new Set(cpuFlags.split(/\s+/));
  if (flags.has('avx512f')) return 'SKYLAKEX';
  if (flags.has('avx2')) return 'HASWELL';
  return null;
}

/** The image tower's weights as peer-pytorch.py reads them: one float32 file and a JSON list of named shapes. */
export function writeVisualWeights(dir: string, w: ClipArchWeights): void {
  const c = w.config;
  const v = w.visual;
  const width = c.visionWidth;
  const grid = c.imageSize / c.patchSize;
  const tensors: { name: string; data: Float32Array; shape: number[] }[] = [
    { name: 'conv', data: v.conv, shape: [width, 3, c.patchSize, c.patchSize] },
    { name: 'classEmb', data: v.classEmb, shape: [width] },
    { name: 'posEmb', data: v.posEmb, shape: [grid * grid + 1, width] },
    { name: 'lnPre.g', data: v.lnPre.g, shape: [width] },
    { name: 'lnPre.b', data: v.lnPre.b, shape: [width] },
    ...v.blocks.flatMap((b, i) => [
      { name: `blocks.${i}.ln1.g`, data: b.ln1.g, shape: [width] },
      { name: `blocks.${i}.ln1.b`, data: b.ln1.b, shape: [width] },
      { name: `blocks.${i}.qkvW`, data: b.qkvW, shape: [width, 3 * width] },
      { name: `blocks.${i}.qkvB`, data: b.qkvB, shape: [3 * width] },
      { name: `blocks.${i}.outW`, data: b.outW, shape: [width, width] },
      { name: `blocks.${i}.outB`, data: b.outB, shape: [width] },
      { name: `blocks.${i}.ln2.g`, data: b.ln2.g, shape: [width] },
      { name: `blocks.${i}.ln2.b`, data: b.ln2.b, shape: [width] },
      { name: `blocks.${i}.fcW`, data: b.fcW, shape: [width, 4 * width] },
      { name: `blocks.${i}.fcB`, data: b.fcB, shape: [4 * width] },
      { name: `blocks.${i}.projW`, data: b.projW, shape: [4 * width, width] },
      { name: `blocks.${i}.projB`, data: b.projB, shape: [width] },
    ]),
    { name: 'lnPost.g', data: v.lnPost.g, shape: [width] },
    { name: 'lnPost.b', data: v.lnPost.b, shape: [width] },
    { name: 'proj', data: v.proj, shape: [width, c.embedDim] },
  ];
  let offset = 0;
  const manifest = tensors.map((t) => {
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) throw new Error(`${t.name}: ${t.data.length} values for shape [${t.shape}]`);
    const m = { name: t.name, shape: t.shape, offset };
    offset += t.data.length;
    return m;
  });
  const all = new Float32Array(offset);
  tensors.forEach((t, i) => all.set(t.data, manifest[i].offset));
  writeFileSync(path.join(dir, 'weights.f32'), Buffer.from(all.buffer));
  writeFileSync(path.join(dir, 'weights.json'), JSON.stringify({ config: c, tensors: manifest }));
}

/** The JPEGs in the order both pipelines read them: sorted paths under class folders. */
function imageFiles(root: string): string[] {
  return readdirSync(root)
    .sort()
    .flatMap((c) => readdirSync(path.join(root, c)).sort().map((f) => path.join(root, c, f)));
}

export async function runPeerPytorch(o: PeerOptions): Promise<PeerResult> {
  const log = o.log ?? (() => undefined);
  const texts = fixtureTexts(loadPromptSet('colours').templates);
  const modelDir = path.join('fixtures', `clip-${o.arch}-hf`); // bench-engine's fixture
  if (!existsSync(modelDir)) await writeClipArch(modelDir, o.arch, texts, { layout: 'hf-split' });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-peer-pytorch-'));
  try {
    writeVisualWeights(tmp, randomClipWeights(archTowers(o.arch, texts).config, 1));
    const root = path.join(tmp, 'jpegs');
    await writeJpegs(root, o.images);
    const files = imageFiles(root);

    const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
    const cb = timed(process.execPath, [bin, 'eval', '--model', modelDir, '--dataset', 'imagefolder', '--root', root, '--prompts', 'single', '--db', path.join(tmp, 'eval.sqlite'), '--no-cache', '--workers', String(o.workers), '--batch-size', String(o.batchSize), '--quiet', '--json'], {});
    log(`clip-bench eval      ${(o.images / cb.seconds).toFixed(1)} images/s end to end (${cb.seconds.toFixed(1)} s for ${o.images} JPEGs, startup included)`);

    const blas = blasLibrary();
    if (blas && !/openblas|mkl|blis/i.test(blas)) log(`warning: libblas.so.3 is ${blas}, not an optimised BLAS: install libopenblas0-pthread for a fair PyTorch`);
    const coretype = openblasCoretype(readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '');
    const emb = path.join(tmp, 'torch.f32');
    const py = timed(o.python, [path.join(packageRoot, 'scripts', 'peer-pytorch.py'), '--weights', tmp, '--images', root, '--batch-size', String(o.batchSize), '--workers', String(o.workers), '--threads', String(os.availableParallelism()), '--embeddings', emb], coretype ? { OPENBLAS_CORETYPE: coretype } : {});
    const pyOut = JSON.parse(py.stdout.trim().split('\n').at(-1)!) as { seconds: number; startupSeconds: number; imagesPerSecond: number };
    log(`PyTorch pipeline     ${(o.images / py.seconds).toFixed(1)} images/s end to end (${py.seconds.toFixed(1)} s; its loop alone ${pyOut.imagesPerSecond.toFixed(1)} images/s after ${pyOut.startupSeconds.toFixed(1)} s of startup; OPENBLAS_CORETYPE=${coretype ?? 'unset'}, BLAS ${blas ?? 'unknown'})`);

    // the same computation: the first images through clip-bench's preprocessing and encoder against PyTorch's rows
    const ckpt = await loadCheckpoint(modelDir, { session: { inferenceWorker: false } });
    const n = Math.min(16, files.length);
    const size = ckpt.preprocess.size;
    const pixels = new Float32Array(n * 3 * size * size);
    for (let i = 0; i < n; i++) pixels.set(await preprocessImage(files[i], ckpt.preprocess), i * 3 * size * size);
    const ours = await ckpt.encodeImages(pixels, n);
    await ckpt.release();
    const raw = readFileSync(emb); // a small file's Buffer may sit inside a shared pool: view its own bytes only
    const theirs = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    const d = ckpt.embedDim;
    let minCosine = 1;
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += ours[i * d + k] * theirs[i * d + k];
      minCosine = Math.min(minCosine, dot);
    }
    const ratio = py.seconds / cb.seconds;
    log(`ratio                ${ratio.toFixed(2)} × (goal ≥ ${PEER_GOAL[o.arch]} ×: ${ratio >= PEER_GOAL[o.arch] ? 'holds' : 'misses'}); embeddings of the first ${n} images agree to cosine ≥ ${minCosine.toFixed(6)}`);
    return {
      arch: o.arch,
      images: o.images,
      workers: o.workers,
      clipBenchSeconds: cb.seconds,
      clipBenchImagesPerSecond: o.images / cb.seconds,
      pytorchSeconds: py.seconds,
      pytorchImagesPerSecond: o.images / py.seconds,
      pytorchLoopImagesPerSecond: pyOut.imagesPerSecond,
      pytorchStartupSeconds: pyOut.startupSeconds,
      openblasCoretype: coretype,
      blas,
      ratio,
      minCosine,
      compared: n,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Where Debian's libblas.so.3 alternative points, or null where there is none. */
function blasLibrary(): string | null {
  try {
    return realpathSync('/usr/lib/x86_64-linux-gnu/libblas.so.3');
  } catch {
    return null;
  }
}

/** A command run to its end, timed from spawn to exit; a failure stops the benchmark with its stderr. */
function timed(cmd: string, args: string[], env: Record<string, string>): { seconds: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 2 ** 20 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.slice(0, 2).join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return { seconds, stdout: r.stdout };
}
