/**
 * Decoding + preprocessing throughput on 500×375 JPEGs (ImageNet's typical size): generates
 * random-content JPEGs with sharp in a temp folder, then times `preprocessImage` on the main
 * thread one image at a time, and the worker pool on 2 threads (and 1, for scaling).
 *
 *   npm run build && node dist/scripts/bench-preprocess.js [--images 200] [--threads 2] [--rounds 1]
 *
 * On a shared machine wall-clock rates swing with other load: `--rounds 3` repeats every
 * timing, and the CPU ms per image is the steadier figure. `CLIP_BENCH_NO_SIMD=1` times the
 * JavaScript resampling passes instead of the WebAssembly SIMD kernels.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../src/fixtures/random.js';
import { OPENAI_CLIP_CONFIG, createPreprocessPool, preprocessImage } from '../src/models/preprocess/index.js';
import { simdAvailable } from '../src/models/preprocess/simd.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const N = arg('images', 200);
const THREADS = arg('threads', 2);
const ROUNDS = arg('rounds', 1);
const W = 500;
const H = 375;

/** Photo-like content: smooth random colour field (bicubic upscale of a coarse grid) plus grain. */
async function makeJpeg(seed: number): Promise<Buffer> {
  const rand = mulberry32(seed);
  const gw = 20;
  const gh = 15;
  const grid = Buffer.alloc(gw * gh * 3);
  for (let i = 0; i < grid.length; i++) grid[i] = Math.floor(rand() * 256);
  const smooth = await sharp(grid, { raw: { width: gw, height: gh, channels: 3 } }).resize(W, H, { kernel: 'cubic' }).raw().toBuffer();
  for (let i = 0; i < smooth.length; i++) smooth[i] = Math.max(0, Math.min(255, smooth[i] + Math.floor((rand() - 0.5) * 24)));
  return sharp(smooth, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

/** Wall-clock rate, plus process CPU time per image (all threads): the load-independent cost. */
async function timeIt(label: string, files: string[], run: (files: string[]) => Promise<void>): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await run(files);
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / files.length;
  const rate = files.length / s;
  console.log(`${label.padEnd(26)} ${files.length} images in ${s.toFixed(2)} s = ${rate.toFixed(0).padStart(4)} images/s  (${cpuMs.toFixed(1)} ms CPU per image)`);
  return rate;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'clip-bench-preprocess-'));
  try {
    const files: string[] = [];
    for (let i = 0; i < N; i++) {
      const f = path.join(dir, `img${String(i).padStart(4, '0')}.jpg`);
      await writeFile(f, await makeJpeg(1000 + i));
      files.push(f);
    }
    const load = os.loadavg()[0].toFixed(2);
    const resampler = simdAvailable() ? 'WebAssembly SIMD' : 'JavaScript';
    console.log(`${N} random-content ${W}x${H} JPEGs (q90); ${os.availableParallelism()} CPUs; node ${process.version}; sharp/libvips ${sharp.versions.vips}; ${resampler} resampling; load average ${load}`);
    const cfg = OPENAI_CLIP_CONFIG;
    // Warm-up: JIT the resampler and load libjpeg before timing.
    for (const f of files.slice(0, 10)) await preprocessImage(f, cfg);

    for (let round = 0; round < ROUNDS; round++) {
      await timeIt('main thread, sequential', files, async (fs) => {
        for (const f of fs) await preprocessImage(f, cfg);
      });
      for (const threads of [...new Set([1, THREADS])]) {
        const pool = createPreprocessPool({ threads, cfg });
        try {
          await Promise.all(files.slice(0, 10 * threads).map((f) => pool.run(f))); // warm-up
          await timeIt(`pool, ${threads} thread${threads > 1 ? 's' : ''}`, files, async (fs) => {
            await Promise.all(fs.map((f) => pool.run(f)));
          });
        } finally {
          await pool.close();
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
