/**
 * Peak memory of a long run: 50,000 images through `runZeroShot` end to end, with the RSS sampled along
 * the way. The queues between preprocessing, inference and the DB are bounded, so the curve must stay
 * flat: what is held at any time is a few batches, not the dataset.
 *
 * The images are a few hundred distinct small JPEGs (64–160 px a side, so the run takes minutes, not
 * hours) hard-linked under 50,000 names. With `--dataset imagenet` (the default) they lie in ImageNet's
 * validation layout, 50 in each of the 1000 WordNet-id folders, and the run is an `imagenet` eval with the
 * paper's 80 templates: 80,000 prompts encoded (and cached) before the images, 1000 classes scored. With
 * `--dataset imagefolder` they lie in an ImageFolder of the 8 colour classes. The model is the
 * random-weight `tiny` CLIP, or ViT-B/32's real dimensions with `--arch vit-b-32` (written once into
 * fixtures/, as bench-engine does); `--tokenizer` gives prompts their real CLIP lengths. Nothing is cached
 * between names: every image is decoded and encoded.
 *
 *   npm run build && npm run bench:rss [-- --arch tiny|vit-b-32 --dataset imagenet|imagefolder --images 50000 --distinct 400 --batch-size 32 --workers 2 --tokenizer FILE --no-cache]
 */
import { existsSync, linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { runZeroShot } from '../src/eval/zero-shot.js';
import type { ClipArchSize } from '../src/fixtures/clip-arch.js';
import { fixtureTexts, writeClipArch } from '../src/fixtures/fixture-models.js';
import { mulberry32 } from '../src/fixtures/random.js';
import { COLOUR_CORNERS } from '../src/fixtures/toy-clip.js';
import { imagenetWnids } from '../src/datasets/wnids.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { scriptArgs } from './args.js';

const USAGE = `
npm run build && npm run bench:rss [-- --arch tiny|vit-b-32 --dataset imagenet|imagefolder --images 50000 --distinct 400 --batch-size 32 --workers 2 --tokenizer FILE --no-cache]
`;
const values = scriptArgs('bench-rss', USAGE, {
  arch: { type: 'string', default: 'tiny' },
  dataset: { type: 'string', default: 'imagenet' },
  tokenizer: { type: 'string' },
  images: { type: 'string', default: '50000' },
  distinct: { type: 'string', default: '400' },
  'batch-size': { type: 'string', default: '32' },
  workers: { type: 'string', default: String(Math.min(2, os.availableParallelism())) },
  'no-cache': { type: 'boolean', default: false },
  keep: { type: 'boolean', default: false },
});
const nImages = Number(values.images);
const nDistinct = Math.min(Number(values.distinct), nImages);
const LIMIT_MIB = 1536;
const MiB = 1024 * 1024;

if (values.dataset !== 'imagenet' && values.dataset !== 'imagefolder') {
  process.stderr.write(`bench-rss: --dataset is imagenet or imagefolder, not ${values.dataset} — usage: ${USAGE.trim()}\n`);
  process.exit(2);
}
const imagenet = values.dataset === 'imagenet';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-rss-'));
try {
  const classes = imagenet ? [...imagenetWnids()] : Object.keys(COLOUR_CORNERS);
  const root = path.join(tmp, 'images');
  const originals = path.join(tmp, 'originals');
  mkdirSync(originals);
  for (const c of classes) mkdirSync(path.join(root, c), { recursive: true });

  const t0 = performance.now();
  const rand = mulberry32(2026);
  for (let i = 0; i < nDistinct; i++) {
    const width = 64 + Math.floor(rand() * 97);
    const height = 64 + Math.floor(rand() * 97);
    const pixels = Buffer.alloc(width * height * 3);
    const base = [rand(), rand(), rand()].map((v) => v * 200);
    for (let p = 0, y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let ch = 0; ch < 3; ch++, p++) pixels[p] = (base[ch] + x * 0.3 + y * 0.2 + rand() * 40) & 255;
    await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toFile(path.join(originals, `${i}.jpg`));
  }
  for (let i = 0; i < nImages; i++) linkSync(path.join(originals, `${i % nDistinct}.jpg`), path.join(root, classes[i % classes.length], `${String(i).padStart(6, '0')}.${imagenet ? 'JPEG' : 'jpg'}`));
  const arch = values.arch as ClipArchSize;
  const model = path.join('fixtures', `clip-${arch}-hf`);
  if (!existsSync(model)) await writeClipArch(model, arch, fixtureTexts(loadPromptSet('colours').templates), { layout: 'hf-split' });
  console.log(`${nImages} JPEGs (${nDistinct} distinct files, 64–160 px, hard-linked) in ${classes.length} class folders written in ${((performance.now() - t0) / 1000).toFixed(1)} s; model ${model} (${arch}); ${imagenet ? 'imagenet eval, the paper\'s 80 templates' : 'imagefolder eval, the colour prompts'}`);

  // The RSS curve: sampled at every 2% of the images (and once a second, for the peak between).
  const curve: { done: number; rssMiB: number }[] = [];
  /** the peak before the first image: model load and the prompts */
  let beforeImagesMiB: number | undefined;
  let lastMark = -1;
  let sampledPeak = 0;
  const timer = setInterval(() => (sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss())), 1000);
  const db = openDb(path.join(tmp, 'rss.sqlite'));
  const t1 = performance.now();
  const r = await runZeroShot(
    db,
    {
      modelDir: model,
      dataset: imagenet ? 'imagenet' : 'imagefolder',
      root,
      ...(imagenet ? {} : { prompts: 'colours' }),
      tokenizer: values.tokenizer,
      batchSize: Number(values['batch-size']),
      workers: Number(values.workers),
      cache: !values['no-cache'],
    },
    (p) => {
      if (p.stage !== 'images') return;
      if (beforeImagesMiB === undefined) {
        beforeImagesMiB = process.resourceUsage().maxRSS / 1024;
        console.log(`peak RSS before the first image (model load, ${imagenet ? '80,000' : 'the'} prompts encoded): ${beforeImagesMiB.toFixed(0)} MiB, after ${((performance.now() - t1) / 1000).toFixed(0)} s`);
      }
      const mark = Math.floor((50 * p.done) / p.total);
      if (mark === lastMark) return;
      lastMark = mark;
      const rss = process.memoryUsage.rss();
      sampledPeak = Math.max(sampledPeak, rss);
      curve.push({ done: p.done, rssMiB: rss / MiB });
    },
  );
  clearInterval(timer);
  db.close();
  const seconds = (performance.now() - t1) / 1000;
  const peakMiB = process.resourceUsage().maxRSS / 1024;

  console.log(`run ${r.runId}: ${r.n} images in ${seconds.toFixed(0)} s (${(r.n / r.timings.imageSeconds).toFixed(0)} images/s in the image phase), ${r.nFailed} failed, caches ${values['no-cache'] ? 'off' : 'on'}`);
  console.log('RSS curve (MiB after n images):');
  for (const c of curve.filter((_, i) => i % 5 === 0 || i === curve.length - 1)) console.log(`  ${String(c.done).padStart(6)}  ${c.rssMiB.toFixed(0).padStart(5)} ${'#'.repeat(Math.round(c.rssMiB / 20))}`);
  // Flat: after the first quarter (allocators and caches warmed up) the RSS may wobble but not climb.
  const settled = curve.filter((c) => c.done >= r.n / 4);
  const lo = Math.min(...settled.map((c) => c.rssMiB));
  const hi = Math.max(...settled.map((c) => c.rssMiB));
  const end = settled.at(-1)!.rssMiB;
  const first = settled[0].rssMiB;
  console.log(`from ${settled[0].done} images on: RSS ${lo.toFixed(0)}–${hi.toFixed(0)} MiB, ${first.toFixed(0)} → ${end.toFixed(0)} MiB (${end - first >= 0 ? '+' : ''}${(end - first).toFixed(0)})`);
  console.log(`peak RSS (process.resourceUsage().maxRSS) ${peakMiB.toFixed(0)} MiB; target < ${LIMIT_MIB} MiB: ${peakMiB < LIMIT_MIB ? 'met' : 'NOT met'}`);
  const flat = end - first < 64;
  console.log(`flat (growth over the last three quarters < 64 MiB): ${flat ? 'yes' : 'NO'}`);
  process.exitCode = peakMiB < LIMIT_MIB && flat && r.n === nImages ? 0 : 1;
} finally {
  if (!values.keep) rmSync(tmp, { recursive: true, force: true });
}
