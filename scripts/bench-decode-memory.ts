/**
 * Peak memory with very large images: a few PNGs just under Pillow's decompression-bomb limit
 * (169 megapixels each by default) through `runZeroShot` end to end. Decoded pixels are the bulk
 * (507 MB per 169-megapixel RGB image); the process-wide decode budget (`decode-budget.ts`)
 * keeps them from being decoded side by side, so the peak stays under 1.5 GB whatever `--workers`.
 *
 * The images are one solid-colour PNG (decoding costs the same memory as any other, and writing
 * it takes seconds) hard-linked under several names in an ImageFolder of the colour classes; the
 * model is the random-weight `tiny` CLIP. Exits non-zero if the peak passes 1.5 GB.
 *
 *   npm run build && npm run bench:decode-memory [-- --images 5 --side 13000 --workers 2]
 */
import { linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { runZeroShot } from '../src/eval/zero-shot.js';
import { fixtureTexts, writeClipArch } from '../src/fixtures/fixture-models.js';
import { COLOUR_CORNERS } from '../src/fixtures/toy-clip.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { scriptArgs } from './args.js';

const USAGE = `
npm run build && npm run bench:decode-memory [-- --images 5 --side 13000 --workers 2]
`;
const values = scriptArgs('bench-decode-memory', USAGE, {
  images: { type: 'string', default: '5' },
  side: { type: 'string', default: '13000' },
  workers: { type: 'string', default: '2' },
});
const nImages = Number(values.images);
const side = Number(values.side);
const LIMIT_MIB = 1536;
const MiB = 1024 * 1024;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-decode-memory-'));
try {
  const classes = Object.keys(COLOUR_CORNERS);
  const root = path.join(tmp, 'images');
  for (const c of classes) mkdirSync(path.join(root, c), { recursive: true });
  const t0 = performance.now();
  const original = path.join(tmp, 'big.png');
  await sharp({ create: { width: side, height: side, channels: 3, background: { r: 200, g: 40, b: 40 } }, limitInputPixels: false }).png().toFile(original);
  for (let i = 0; i < nImages; i++) linkSync(original, path.join(root, classes[i % classes.length], `${i}.png`));
  const model = path.join(tmp, 'tiny');
  await writeClipArch(model, 'tiny', fixtureTexts(loadPromptSet('colours').templates), { layout: 'hf-split' });
  console.log(`${nImages} PNGs of ${side}x${side} = ${((side * side) / 1e6).toFixed(0)} megapixels (hard links of one file) and the tiny model written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  let sampledPeak = 0;
  const timer = setInterval(() => (sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss())), 200);
  const db = openDb(path.join(tmp, 'memory.sqlite'));
  const t1 = performance.now();
  const r = await runZeroShot(db, { modelDir: model, dataset: 'imagefolder', root, prompts: 'colours', batchSize: 32, workers: Number(values.workers), cache: false });
  clearInterval(timer);
  db.close();
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  console.log(`run ${r.runId}: ${r.n} images in ${((performance.now() - t1) / 1000).toFixed(0)} s, ${r.nFailed} failed, --workers ${values.workers}`);
  console.log(`peak RSS (process.resourceUsage().maxRSS) ${peakMiB.toFixed(0)} MiB (sampled every 200 ms: ${(sampledPeak / MiB).toFixed(0)} MiB); target < ${LIMIT_MIB} MiB: ${peakMiB < LIMIT_MIB ? 'met' : 'NOT met'}`);
  process.exitCode = peakMiB < LIMIT_MIB && r.n === nImages && r.nFailed === 0 ? 0 : 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
