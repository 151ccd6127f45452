/**
 * Retrieval as an engine task: metrics and every stored rank equal a brute-force oracle on the run's own
 * stored embeddings; the Karpathy and CLIP_benchmark layouts of the same data give identical results;
 * shards merged = unsharded; resumed = uninterrupted; --no-cache = cached; a missing image is a failed
 * sample whose captions are misses.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunInterrupted } from '../src/eval/engine.js';
import { mergeShards } from '../src/eval/merge-runs.js';
import { runRetrieval, truncatedCaptions, type RetrievalOptions } from '../src/eval/retrieval.js';
import { loadSuite } from '../src/eval/suite.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import { writeDemo } from '../src/fixtures/demo.js';
import { resumeCommand } from '../src/report/run-list.js';
import { writeClipArch } from '../src/fixtures/fixture-models.js';
import { loadCheckpoint } from '../src/models/checkpoint.js';
import { loadTokenizerFromDir } from '../src/models/tokenizer/index.js';
import { openDb, type Db } from '../src/store/db.js';
import { iterateQueries, readCaptions, readImages } from '../src/store/retrieval.js';
import { getRun, listRuns } from '../src/store/runs.js';
import { retrievalOracle as oracle } from './support/retrieval-oracle.js';
import { flickrImages, writeFlickrTxt, writeImages, writeKarpathy, writeRetrievalManifest, type FixtureImage } from './support/retrieval-writers.js';

let tmp: string;
let model: string;
let karpathyRoot: string;
let txtRoot: string;
let images: FixtureImage[];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-retrieval-eval-'));
  // 9 test images (5, 6 or 7 captions) and a val image that must not appear
  images = flickrImages(['test', 'test', 'val', 'test', 'test', 'test', 'test', 'test', 'test', 'test'], [5, 6, 5, 7, 5, 5, 6, 5, 5, 5]);
  karpathyRoot = path.join(tmp, 'karpathy');
  writeKarpathy(karpathyRoot, 'flickr30k', images);
  await writeImages(karpathyRoot, 'flickr30k-images', images);
  txtRoot = path.join(tmp, 'txt');
  writeFlickrTxt(txtRoot, 'flickr30k', 'test', images);
  await writeImages(txtRoot, undefined, images);
  model = path.join(tmp, 'tiny');
  await writeClipArch(model, 'tiny', images.flatMap((im) => im.captions));
});

const opts = (over: Partial<RetrievalOptions> = {}): RetrievalOptions => ({ modelDir: model, dataset: 'flickr30k', root: karpathyRoot, batchSize: 2, workers: 2, recallK: [1, 2, 5], ...over });

const queries = (db: Db, runId: number) => [...iterateQueries(db, runId)];

function expectCloseValues(actual: Record<string, number>, expected: Record<string, number>) {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, v] of Object.entries(expected)) expect(actual[name], name).toBeCloseTo(v, 12);
}

describe('runRetrieval', () => {
  it('metrics and every stored rank equal brute force on the stored embeddings; captions come from the test split only', async () => {
    const db = openDb(':memory:');
    const r = await runRetrieval(db, opts());
    expect(r.summary).toMatchObject({ ranked: true, nImages: 9, nCaptions: 49, nFailedImages: 0 });
    expect(r.description).toBe('9 images, 49 captions (6 images with 5, 2 with 6, 1 with 7)');
    const o = oracle(db, r.runId, [1, 2, 5]);
    expectCloseValues(r.summary.values, o.values);
    const q = queries(db, r.runId);
    expect(q.filter((x) => x.query === 'text').map((x) => x.rank)).toEqual(o.t2i);
    expect(q.filter((x) => x.query === 'image').map((x) => x.rank)).toEqual(o.i2t);
    // stored pairings are the writer's truth: captions of the test images, grouped by image, in file order
    const test = images.filter((im) => im.split === 'test');
    expect(q.filter((x) => x.query === 'text').map((x) => [x.key, x.caption])).toEqual(test.flatMap((im) => im.captions.map((c) => [im.name, c])));
    // top-10 of a text query: its first entry is rank 1's image exactly when the rank is 1
    for (const x of q.filter((x) => x.query === 'text')) expect(x.top10[0] === test.findIndex((im) => im.name === x.key)).toBe(x.rank === 1);
    expect(getRun(db, r.runId)).toMatchObject({ task: 'retrieval', status: 'finished', n: 9, nFailed: 0, top1: null });
    expect((getRun(db, r.runId).metrics as Record<string, { value: number }>)['mean_recall@1'].value).toBe(r.summary.values['mean_recall@1']);
  });

  it('the caption prefix is encoded (and part of the identity); stored caption texts stay as written', async () => {
    const db = openDb(':memory:');
    const plain = await runRetrieval(db, opts({ cache: false }));
    const prefixed = await runRetrieval(db, opts({ cache: false, captionPrefix: 'a photo of ' }));
    expect(getRun(db, prefixed.runId).identity).not.toBe(getRun(db, plain.runId).identity);
    const ckpt = await loadCheckpoint(model);
    try {
      const caps = readCaptions(db, prefixed.runId);
      const direct = await ckpt.encodeTexts(['a photo of ' + caps[3].text]);
      expect([...caps[3].embedding]).toEqual([...direct]);
      expect(caps.map((c) => c.text)).toEqual(readCaptions(db, plain.runId).map((c) => c.text));
    } finally {
      await ckpt.release();
    }
  });

  it('captions are counted as truncated exactly where clip.tokenize(truncate=False) would refuse them', async () => {
    const ckpt = await loadCheckpoint(model);
    try {
      const texts = [74, 75, 76, 200].map((n) => Array(n).fill('a').join(' ')).concat(['a person rides a bike.']);
      const clip = loadTokenizerFromDir(model);
      const refused = texts.filter((t) => {
        try {
          clip.tokenize(t, { truncate: false });
          return false;
        } catch {
          return true;
        }
      }).length;
      expect(ckpt.textTokenizer.contextLength).toBe(77);
      expect(refused).toBe(2);
      expect(truncatedCaptions(ckpt, texts)).toBe(refused);
    } finally {
      await ckpt.release();
    }
  });

  it('the Karpathy JSON and CLIP_benchmark .txt layouts of the same data give identical metrics and queries', async () => {
    const db = openDb(':memory:');
    const a = await runRetrieval(db, opts());
    const b = await runRetrieval(db, opts({ root: txtRoot }));
    expect(b.layoutFound).not.toBe(a.layoutFound);
    expect(b.summary.values).toEqual(a.summary.values);
    expect(queries(db, b.runId)).toEqual(queries(db, a.runId));
  });

  it('--no-cache gives the cached result', async () => {
    const db = openDb(':memory:');
    const a = await runRetrieval(db, opts());
    const b = await runRetrieval(db, opts());
    expect(b.cache).toMatchObject({ imageHits: 9, imageMisses: 0, textMisses: 0 });
    const c = await runRetrieval(openDb(':memory:'), opts({ cache: false }));
    expect(c.summary.values).toEqual(a.summary.values);
    expect(b.summary.values).toEqual(a.summary.values);
  });

  it('three shard DBs merge into exactly the unsharded metrics and ranks; a shard alone is not ranked', async () => {
    const whole = openDb(':memory:');
    const w = await runRetrieval(whole, opts({ cache: false, limit: 8 }));
    const sources: { file: string; db: Db }[] = [];
    for (let i = 0; i < 3; i++) {
      const file = path.join(tmp, `r-shard-${i}.sqlite`);
      const db = openDb(file);
      const r = await runRetrieval(db, opts({ cache: false, limit: 8, shard: { index: i, count: 3 } }));
      expect(r.summary).toMatchObject({ ranked: false, nImages: [3, 3, 2][i] });
      expect(queries(db, r.runId)).toEqual([]);
      sources.push({ file, db });
    }
    await expect(mergeShards(sources.slice(1), () => openDb(':memory:'))).rejects.toThrow(/shards 0\/3 are missing or unfinished/);
    const { merged, db: into } = await mergeShards(sources, () => openDb(path.join(tmp, 'r-merged.sqlite')));
    const run = getRun(into, merged[0].runId);
    const unsharded = getRun(whole, w.runId);
    expect(run).toMatchObject({ task: 'retrieval', status: 'finished', shard: null, identity: unsharded.identity, n: 8, metrics: unsharded.metrics });
    expect(queries(into, run.id)).toEqual(queries(whole, w.runId));
  });

  it('an interrupted run resumes to exactly the uninterrupted result', async () => {
    const reference = openDb(':memory:');
    const whole = await runRetrieval(reference, opts({ cache: false }));
    const db = openDb(path.join(tmp, 'r-resume.sqlite'));
    const controller = new AbortController();
    let batches = 0;
    const interrupted = runRetrieval(db, opts({ cache: false, signal: controller.signal }), (p) => {
      if (p.stage === 'images' && ++batches === 2) controller.abort();
    });
    await expect(interrupted).rejects.toBeInstanceOf(RunInterrupted);
    const [run] = listRuns(db);
    expect(run.status).toBe('interrupted');
    expect(readImages(db, run.id).length).toBeLessThan(9);
    const resumed = await runRetrieval(db, opts({ cache: false }));
    expect(resumed).toMatchObject({ runId: run.id, resumed: true });
    expect(resumed.summary.values).toEqual(whole.summary.values);
    expect(queries(db, run.id)).toEqual(queries(reference, whole.runId));
  });

  it('a missing image is a failed sample: its captions are misses at the worst rank, as the oracle counts them', async () => {
    const root = path.join(tmp, 'missing');
    writeKarpathy(root, 'flickr30k', images);
    await writeImages(root, 'flickr30k-images', images);
    rmSync(path.join(root, 'flickr30k-images', images[3].name));
    const db = openDb(':memory:');
    const r = await runRetrieval(db, opts({ root, cache: false }));
    expect(r.summary).toMatchObject({ nImages: 9, nFailedImages: 1, nFailedCaptions: 7 });
    expect(r.description).toMatch(/1 listed image is missing/);
    const failed = readImages(db, r.runId).find((im) => im.key === images[3].name)!;
    expect(failed.embedding).toBeNull();
    expect(failed.error).toBeTruthy();
    const o = oracle(db, r.runId, [1, 2, 5]);
    expectCloseValues(r.summary.values, o.values);
    const q = queries(db, r.runId).filter((x) => x.key === images[3].name);
    expect(q.filter((x) => x.query === 'text').every((x) => x.status === 'failed' && x.rank === 9)).toBe(true);
  });

  it('--exclude-failures gives exactly the run over the data set without the failed image', async () => {
    const withMissing = path.join(tmp, 'excl-missing');
    writeKarpathy(withMissing, 'flickr30k', images);
    await writeImages(withMissing, 'flickr30k-images', images);
    rmSync(path.join(withMissing, 'flickr30k-images', images[4].name));
    const without = path.join(tmp, 'excl-without');
    writeKarpathy(without, 'flickr30k', images.filter((_, i) => i !== 4));
    await writeImages(without, 'flickr30k-images', images);
    const db = openDb(':memory:');
    const a = await runRetrieval(db, opts({ root: withMissing, excludeFailures: true }));
    const b = await runRetrieval(db, opts({ root: without }));
    expect(a.summary).toMatchObject({ nImages: 9, nFailedImages: 1, nFailedCaptions: 0 });
    expect(b.summary.nImages).toBe(8);
    expect(a.summary.values).toEqual(b.summary.values);
    const scored = queries(db, a.runId).filter((q) => q.status !== 'excluded');
    expect(scored.map((q) => [q.query, q.key, q.caption, q.rank])).toEqual(queries(db, b.runId).map((q) => [q.query, q.key, q.caption, q.rank]));
  });

  it('image embeddings are shared with classification: a retrieval manifest over an ImageFolder encodes no image again', async () => {
    const demo = await writeDemo(path.join(tmp, 'demo'), 2);
    const db = openDb(':memory:');
    const c = await runZeroShot(db, { modelDir: model, dataset: 'imagefolder', root: demo.root, prompts: 'colours', batchSize: 4, workers: 2 });
    expect(c.cache.imageMisses).toBe(16);
    const files = readdirSync(demo.root).flatMap((cls) => readdirSync(path.join(demo.root, cls)).map((f) => `${cls}/${f}`));
    const manifest = writeRetrievalManifest(demo.root, 'captions.csv', files.map((f, i) => ({ name: f, split: 'test', seed: i, captions: [`a ${f.split('/')[0]} square`] })), (im) => im.name);
    const r = await runRetrieval(db, opts({ root: manifest, recallK: [1, 5] }));
    expect(r.cache).toMatchObject({ imageHits: 16, imageMisses: 0 });
  });

  it('an unfinished retrieval run names the command that continues it: its prefix and cut-offs, no --prompts', async () => {
    const db = openDb(path.join(tmp, 'r-unfinished.sqlite'));
    const controller = new AbortController();
    controller.abort();
    await expect(runRetrieval(db, opts({ cache: false, captionPrefix: "a photo's ", signal: controller.signal }))).rejects.toBeInstanceOf(RunInterrupted);
    const [run] = listRuns(db);
    const cmd = resumeCommand(run, 'r.sqlite');
    expect(cmd).toBe(`clip-bench eval --model ${model} --dataset flickr30k --root ${karpathyRoot} --split test --caption-prefix 'a photo'\\''s ' --recall-k 1,2,5 --db r.sqlite --resume ${run.id}`);
  });

  it('bad input stops before any DB is opened: cut-offs larger than a gallery, no recall@1, an unknown split', async () => {
    let opened = false;
    const open = () => ((opened = true), openDb(':memory:'));
    await expect(runRetrieval(open, opts({ recallK: [1, 10] }))).rejects.toThrow(/recall@10 needs at least 10 items in each gallery, but there are 9 images/);
    await expect(runRetrieval(open, opts({ recallK: [5] }))).rejects.toThrow(/needs recall@1/);
    await expect(runRetrieval(open, opts({ split: 'restval' }))).rejects.toThrow(/no split "restval"/);
    expect(opened).toBe(false);
  });
});

describe('retrieval in suites', () => {
  it('paper-retrieval lists flickr30k and mscoco; a retrieval entry with "prompts" is refused with its place', () => {
    expect(loadSuite('paper-retrieval').datasets.map((d) => d.dataset)).toEqual(['flickr30k', 'mscoco']);
    const file = path.join(tmp, 'bad-suite.json');
    writeFileSync(file, JSON.stringify({ datasets: [{ dataset: 'cifar10', dirs: ['c'] }, { dataset: 'mscoco', dirs: ['coco'], prompts: 'single' }] }));
    expect(() => loadSuite(file)).toThrow(/datasets\[1\] \(mscoco\): "prompts" is for classification/);
  });
});
