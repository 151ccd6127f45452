/**
 * What one JPEG decode costs: sharp (libvips, the decoder clip-bench uses) against Pillow (the PyTorch
 * peer's), CPU per image at three sizes, one thread, the same files. The sizes separate a fixed cost per
 * call (8×8: almost no pixels) from the cost per pixel (2000×1500): on the tiny model decoding is most of
 * an image's work, so this is what sets its ratio to the PyTorch pipeline.
 *
 *   npm run build && npm run bench:decoder [-- --rounds 5]
 *
 * Pillow runs in /usr/bin/python3 (Debian's python3-pil) where it is installed; else only sharp is timed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../src/fixtures/random.js';
import { scriptArgs } from './args.js';

const USAGE = `
npm run build && npm run bench:decoder [-- --rounds 5]
`;
const values = scriptArgs('bench-decoder', USAGE, { rounds: { type: 'string', default: '5' } });
const rounds = Number(values.rounds);
const SIZES = [
  { w: 8, h: 8, files: 400 },
  { w: 500, h: 375, files: 100 },
  { w: 2000, h: 1500, files: 6 },
];

/** Gradients plus grain, as bench-engine's JPEGs: realistic entropy per pixel. */
async function jpeg(w: number, h: number, seed: number): Promise<Buffer> {
  const rand = mulberry32(seed);
  const px = Buffer.alloc(w * h * 3);
  const [r0, g0, b0] = [rand(), rand(), rand()].map((v) => v * 255);
  for (let p = 0, y = 0; y < h; y++) for (let x = 0; x < w; x++, p += 3) {
    const noise = (rand() - 0.5) * 40;
    px[p] = (r0 + x * 0.2 + noise) & 255;
    px[p + 1] = (g0 + y * 0.3 + noise) & 255;
    px[p + 2] = (b0 + (x + y) * 0.1 + noise) & 255;
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const PIL = `
import io, sys, time
from PIL import Image
files, rounds = sys.argv[1:-1], int(sys.argv[-1])
data = [open(f, 'rb').read() for f in files]
for b in data[:5]: Image.open(io.BytesIO(b)).load()
per = []
for _ in range(rounds):
    c0 = time.process_time()
    for b in data: Image.open(io.BytesIO(b)).load()
    per.append((time.process_time() - c0) * 1000 / len(data))
print(sorted(per)[len(per) // 2])
`;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-decoder-'));
try {
  const script = path.join(tmp, 'pil.py');
  writeFileSync(script, PIL);
  const hasPil = spawnSync('/usr/bin/python3', ['-c', 'import PIL'], { encoding: 'utf8' }).status === 0;
  console.log(`sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}, mozjpeg), concurrency ${sharp.concurrency()}; Pillow: ${hasPil ? 'yes' : 'not installed (apt install python3-pil)'}; median of ${rounds} rounds, CPU ms per image, one thread`);
  console.log(`${'size'.padEnd(11)} ${'sharp'.padStart(7)} ${'Pillow'.padStart(7)} ${'ratio'.padStart(6)}`);
  for (const { w, h, files } of SIZES) {
    const names: string[] = [];
    for (let i = 0; i < files; i++) {
      const f = path.join(tmp, `${w}x${h}-${i}.jpg`);
      writeFileSync(f, await jpeg(w, h, i + 1));
      names.push(f);
    }
    const data = names.map((f) => readFileSync(f));
    // as clip-bench decodes (decode.ts): raw pixels, ICC ignored, errors fail
    const decode = (b: Buffer) => sharp(b, { failOn: 'error', ignoreIcc: true }).raw().toBuffer();
    for (const b of data.slice(0, 5)) await decode(b);
    const per: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const c0 = cpuMs();
      for (const b of data) await decode(b);
      per.push((cpuMs() - c0) / data.length);
    }
    const ours = median(per);
    const pil = hasPil ? Number(spawnSync('/usr/bin/python3', [script, ...names, String(rounds)], { encoding: 'utf8' }).stdout.trim()) : NaN;
    console.log(`${`${w}×${h}`.padEnd(11)} ${ours.toFixed(2).padStart(7)} ${hasPil ? pil.toFixed(2).padStart(7) : '      –'} ${hasPil ? `${(ours / pil).toFixed(2)}×`.padStart(6) : ''}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
