/**
 * A peer, side by side: the same random-weight ViT-B/32 CLIP (Hugging Face layout, as written by
 * `bench-engine`) evaluated zero-shot on the same generated 500×375 JPEGs by clip-bench (`runZeroShot`)
 * and by transformers.js (`@huggingface/transformers`: AutoProcessor + CLIPVisionModelWithProjection +
 * CLIPTextModelWithProjection, local files only). Reports both throughputs over the image phase (decode →
 * preprocess → encode → score; prompts encoded before the clock starts on both sides), the top-1
 * agreement, and where the two differ (preprocessing pixels, token ids).
 *
 *   npm run build && npm run bench:transformers [-- --images 200 --batch-size 32 --workers 2 --arch vit-b-32]
 * (`npm run bench:peer` runs it beside the PyTorch peer)
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AutoProcessor, AutoTokenizer, CLIPTextModelWithProjection, CLIPVisionModelWithProjection, env, RawImage, type Tensor } from '@huggingface/transformers';
import { writeJpegs } from '../src/eval/bench.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import type { ClipArchSize } from '../src/fixtures/clip-arch.js';
import { fixtureTexts, writeClipArch } from '../src/fixtures/fixture-models.js';
import { COLOUR_CORNERS } from '../src/fixtures/toy-clip.js';
import { loadPreprocessConfigFromDir, preprocessImage } from '../src/models/preprocess/index.js';
import { loadTokenizerFromDir } from '../src/models/tokenizer/index.js';
import { normaliseRows } from '../src/prompts/classifier.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { getRun, iteratePredictions } from '../src/store/runs.js';
import { scriptArgs } from './args.js';

const USAGE = `
npm run build && npm run bench:transformers [-- --images 200 --batch-size 32 --workers 2 --arch vit-b-32]
`;
const values = scriptArgs('peer-transformers', USAGE, {
  arch: { type: 'string', default: 'vit-b-32' },
  images: { type: 'string', default: '200' },
  'batch-size': { type: 'string', default: '32' },
  workers: { type: 'string', default: String(Math.min(2, os.availableParallelism())) },
});
const arch = values.arch as ClipArchSize;
const nImages = Number(values.images);
const batchSize = Number(values['batch-size']);
const dir = path.resolve('fixtures', `clip-${arch}-hf`);
if (!existsSync(dir)) {
  const t0 = performance.now();
  await writeClipArch(dir, arch, fixtureTexts(loadPromptSet('colours').templates), { layout: 'hf-split' });
  console.log(`wrote ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
console.log(`${os.cpus().length} × ${os.cpus()[0]?.model}; node ${process.version}; model ${dir}`);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-peer-'));
try {
  // The bench's images, in one folder per colour so that the prompts are "a photo of a {colour}.".
  const classes = Object.keys(COLOUR_CORNERS).sort();
  const root = path.join(tmp, 'jpegs');
  await writeJpegs(root, nImages, classes);

  // --- clip-bench
  const db = openDb(path.join(tmp, 'ours.sqlite'));
  const r = await runZeroShot(db, { modelDir: dir, dataset: 'imagefolder', root, prompts: 'single', batchSize, workers: Number(values.workers), cache: false });
  const run = getRun(db, r.runId);
  const classIds = run.params.classIds as string[];
  const ours = [...iteratePredictions(db, r.runId)];
  db.close();
  const oursRate = r.n / r.timings.imageSeconds;
  const session = run.params.session as Record<string, unknown>;
  console.log(`clip-bench        ${oursRate.toFixed(2)} images/s over ${r.n} images (batch ${batchSize}, ${values.workers} preprocessing workers, intra-op threads ${session.intraOpThreads || 'default'}, inference ${session.inferenceWorker ? 'in a worker thread' : 'on the main thread'})`);

  // --- transformers.js, local files only
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(dir) + path.sep;
  const id = path.basename(dir);
  const processor = await AutoProcessor.from_pretrained(id);
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const vision = await CLIPVisionModelWithProjection.from_pretrained(id, { dtype: 'fp32', device: 'cpu' });
  const textModel = await CLIPTextModelWithProjection.from_pretrained(id, { dtype: 'fp32', device: 'cpu' });
  const texts = classIds.map((c) => `a photo of a ${c}.`);
  const tokens = tokenizer(texts, { padding: true, truncation: true });
  const textEmbeds = (await textModel(tokens)).text_embeds as Tensor;
  const dim = textEmbeds.dims[1];
  const classifier = normaliseRows(textEmbeds.data as Float32Array, dim);

  const files = ours.map((p) => path.join(root, p.key));
  const theirsTop1: number[] = [];
  let firstPixels: Float32Array | undefined;
  const t0 = performance.now();
  for (let s = 0; s < files.length; s += batchSize) {
    const images = await Promise.all(files.slice(s, s + batchSize).map((f) => RawImage.read(f)));
    const { pixel_values } = (await processor(images)) as { pixel_values: Tensor };
    if (s === 0) firstPixels = (pixel_values.data as Float32Array).slice();
    const emb = normaliseRows((await vision({ pixel_values })).image_embeds.data as Float32Array, dim);
    for (let i = 0; i < images.length; i++) {
      let best = 0;
      let bestLogit = -Infinity;
      for (let c = 0; c < classIds.length; c++) {
        let dot = 0;
        for (let k = 0; k < dim; k++) dot += emb[i * dim + k] * classifier[c * dim + k];
        if (dot > bestLogit) [best, bestLogit] = [c, dot];
      }
      theirsTop1.push(best);
    }
  }
  const theirsRate = files.length / ((performance.now() - t0) / 1000);
  console.log(`transformers.js   ${theirsRate.toFixed(2)} images/s over ${files.length} images (batch ${batchSize}; RawImage.read → AutoProcessor → CLIPVisionModelWithProjection → scores)`);
  const ratio = oursRate / theirsRate;
  console.log(`clip-bench / transformers.js = ×${ratio.toFixed(2)} (goal: ahead, > 1 ×, on an idle machine: ${ratio > 1 ? 'holds' : 'misses'} in this run)`);

  // --- agreement, and why it is not 100%
  const agree = ours.filter((p, i) => p.top5![0] === theirsTop1[i]).length;
  console.log(`top-1 agreement   ${agree} of ${ours.length} = ${((100 * agree) / ours.length).toFixed(1)}%`);
  const margins = ours.map((p) => p.top5Logits![0] - p.top5Logits![1]);
  const median = [...margins].sort((a, b) => a - b)[Math.floor(margins.length / 2)];
  const wide = ours.filter((_, i) => margins[i] >= median);
  const wideAgree = wide.filter((p) => p.top5![0] === theirsTop1[ours.indexOf(p)]).length;
  console.log(`  where our top-1 leads top-2 by ≥ the median margin (${median.toFixed(3)} logits of 100·cos): ${wideAgree} of ${wide.length} agree; below it: ${agree - wideAgree} of ${ours.length - wide.length}`);

  const cfg = loadPreprocessConfigFromDir(dir);
  const row = 3 * cfg.size * cfg.size;
  let maxDiff = 0;
  let sumDiff = 0;
  const nCompared = Math.min(batchSize, files.length);
  for (let i = 0; i < nCompared; i++) {
    const mine = await preprocessImage(files[i], cfg);
    for (let k = 0; k < row; k++) {
      const d = Math.abs(mine[k] - firstPixels![i * row + k]);
      maxDiff = Math.max(maxDiff, d);
      sumDiff += d;
    }
  }
  console.log(`  pixels (first ${nCompared} images, normalised units): mean |ours − transformers.js| ${(sumDiff / (nCompared * row)).toFixed(4)}, max ${maxDiff.toFixed(3)} — PIL-exact bicubic vs sharp's resize`);

  const ourTok = loadTokenizerFromDir(dir).tokenizeBatch(texts);
  const theirIds = tokens.input_ids as Tensor;
  const width = theirIds.dims[1];
  let sameIds = true;
  for (let t = 0; t < texts.length; t++) {
    for (let k = 0; k <= ourTok.eotIndex[t]; k++) if (Number((theirIds.data as BigInt64Array)[t * width + k]) !== ourTok.data[t * (ourTok.data.length / texts.length) + k]) sameIds = false;
  }
  console.log(`  prompt token ids: ${sameIds ? 'identical' : 'DIFFER'} for all ${texts.length} prompts`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
