/**
 * Retrieval scoring at MSCOCO 5k scale: random unit embeddings of 5,000 images and 25,010 captions
 * (512-d, 5 captions an image and 6 for the first 10, as COCO's Karpathy test), scored and ranked in
 * both directions by `scoreRetrieval` and summarised by `retrievalMetrics`. Prints the seconds of that
 * stage (wall clock and CPU) and the process's peak RSS (which includes the embeddings and everything before the stage).
 *
 *   npm run build && npm run bench:retrieval [-- --images 5000 --captions 25010 --dim 512 --block-rows N --threads 0 --json]
 */
import os from 'node:os';
import { retrievalMetrics } from '../src/eval/retrieval-metrics.js';
import { scoreRetrieval } from '../src/eval/retrieval-scorer.js';
import { mulberry32, normalArray } from '../src/fixtures/random.js';
import { scriptArgs } from './args.js';

const USAGE = `
npm run build && npm run bench:retrieval [-- --images 5000 --captions 25010 --dim 512 --block-rows N --threads 0 --json]
`;
const values = scriptArgs('bench-retrieval', USAGE, {
  images: { type: 'string', default: '5000' },
  captions: { type: 'string', default: '25010' },
  dim: { type: 'string', default: '512' },
  'block-rows': { type: 'string' },
  threads: { type: 'string', default: '0' },
  json: { type: 'boolean', default: false },
});
const nImages = Number(values.images);
const nCaptions = Number(values.captions);
const dim = Number(values.dim);
if (!(nImages >= 1 && nCaptions >= nImages && dim >= 1)) {
  process.stderr.write(`bench-retrieval: need --captions ≥ --images ≥ 1 and --dim ≥ 1 — usage: ${USAGE.trim()}\n`);
  process.exit(2);
}
const MiB = 1024 * 1024;

function unitRows(rand: () => number, n: number): Float32Array {
  const rows = normalArray(rand, n * dim, 1);
  for (let r = 0; r < n; r++) {
    let sq = 0;
    for (let k = r * dim; k < (r + 1) * dim; k++) sq += rows[k] * rows[k];
    const inv = 1 / Math.sqrt(sq);
    for (let k = r * dim; k < (r + 1) * dim; k++) rows[k] *= inv;
  }
  return rows;
}

const rand = mulberry32(2021);
const images = unitRows(rand, nImages);
const captions = unitRows(rand, nCaptions);
// every image gets ⌊nCaptions / nImages⌋ captions, the first (nCaptions mod nImages) one more
const captionImage = Int32Array.from({ length: nCaptions }, (_, c) => c % nImages);
const rssBefore = process.memoryUsage().rss;

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const ranking = await scoreRetrieval(images, captions, dim, captionImage, {
  threads: Number(values.threads),
  ...(values['block-rows'] ? { blockRows: Number(values['block-rows']) } : {}),
});
const metrics = retrievalMetrics(ranking);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const peakRss = process.resourceUsage().maxRSS * 1024;

console.log(`${os.cpus().length} × ${os.cpus()[0]?.model}; node ${process.version}`);
console.log(`${nCaptions} captions × ${nImages} images, ${dim}-d: scoring + ranking both directions + metrics in ${seconds.toFixed(2)} s (${cpuSeconds.toFixed(2)} s CPU, all threads)`);
console.log(`RSS before the stage ${(rssBefore / MiB).toFixed(0)} MiB, peak ${(peakRss / MiB).toFixed(0)} MiB (whole process)`);
console.log(`(random embeddings: mean_recall@1 = ${metrics.values['mean_recall@1'].toFixed(4)}, chance ≈ 1/nImages = ${(1 / nImages).toFixed(4)})`);
if (values.json) console.log(JSON.stringify({ nImages, nCaptions, dim, seconds, cpuSeconds, rssBeforeMiB: rssBefore / MiB, peakRssMiB: peakRss / MiB }));
