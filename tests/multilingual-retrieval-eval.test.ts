/**
 * `--language` on a retrieval run: the metrics equal brute force on the run's stored embeddings, the stored
 * captions are the language's (the writer's truth), the language is stored as `params.language` and is part of
 * the run's identity — an interrupted run in one language is never continued in another, even where both
 * languages' captions are the same text.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RETRIEVAL_DATASETS } from '../src/datasets/retrieval/index.js';
import { RunInterrupted } from '../src/eval/engine.js';
import { entryName, loadSuite } from '../src/eval/suite.js';
import { packageRoot } from '../src/paths.js';
import { runRetrieval, type RetrievalOptions } from '../src/eval/retrieval.js';
import { writeClipArch } from '../src/fixtures/fixture-models.js';
import { openDb } from '../src/store/db.js';
import { readCaptions } from '../src/store/retrieval.js';
import { getRun, listRuns } from '../src/store/runs.js';
import { retrievalOracle as oracle } from './support/retrieval-oracle.js';
import { jpeg, multilingualImages, write, writeXtd10Files, type MultilingualImage } from './support/retrieval-writers.js';
import { usageFailure as failure, usageFailureSync } from './support/usage-failure.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');

let tmp: string;
let model: string;
let root: string;
let images: MultilingualImage[];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-ml-retrieval-eval-'));
  // 6 images; "it" repeats the en captions word for word (only the language tells the runs apart)
  images = multilingualImages(6, ['en', 'de']).map((im, i) => ({ ...im, name: `COCO_train2014_${String(100 + i).padStart(12, '0')}.jpg`, captions: { ...im.captions, it: im.captions.en } }));
  root = path.join(tmp, 'xtd');
  writeXtd10Files(root, '', images);
  for (const im of images) write(root, path.join('xtd10', 'images', im.name), await jpeg(im.seed));
  model = path.join(tmp, 'tiny');
  await writeClipArch(model, 'tiny', images.flatMap((im) => Object.values(im.captions).flat()));
});

const opts = (over: Partial<RetrievalOptions> = {}): RetrievalOptions => ({ modelDir: model, dataset: 'xtd10', root, batchSize: 2, workers: 2, recallK: [1, 2, 5], cache: false, ...over });

describe('runRetrieval with a language', () => {
  it("ranks the language's captions: metrics equal brute force; params.language, the prompt set and the result say it", async () => {
    const db = openDb(':memory:');
    const r = await runRetrieval(db, opts({ language: 'de' }));
    expect(r.language).toBe('de');
    expect(r.summary).toMatchObject({ ranked: true, nImages: 6, nCaptions: 6 });
    const o = oracle(db, r.runId, [1, 2, 5]);
    for (const [k, v] of Object.entries(o.values)) expect(r.summary.values[k], k).toBeCloseTo(v, 12);
    expect(readCaptions(db, r.runId).map((c) => [c.image, c.text])).toEqual(images.map((im, i) => [i, im.captions.de[0]]));
    const run = getRun(db, r.runId);
    expect(run.params.language).toBe('de');
    expect(run.promptSet).toBe('captions in de');
  });

  it('an interrupted en run is continued by en, never by it (the same caption texts): it is a run of its own', async () => {
    const db = openDb(path.join(tmp, 'identity.sqlite'));
    const controller = new AbortController();
    let batches = 0;
    const interrupted = runRetrieval(db, opts({ language: 'en', signal: controller.signal }), (p) => {
      if (p.stage === 'images' && ++batches === 1) controller.abort();
    });
    await expect(interrupted).rejects.toBeInstanceOf(RunInterrupted);
    const [first] = listRuns(db);
    const it_ = await runRetrieval(db, opts({ language: 'it' }));
    expect(it_.runId).not.toBe(first.id);
    expect(it_.resumed).toBe(false);
    expect(await failure(runRetrieval(db, opts({ language: 'it', resume: first.id })))).toMatch(new RegExp(`^run ${first.id} was made with other settings`));
    const en = await runRetrieval(db, opts({ language: 'en' }));
    expect(en).toMatchObject({ runId: first.id, resumed: true, language: 'en' });
    // the same text in both languages ranks the same, and each run keeps its own language
    expect(en.summary.values).toEqual(it_.summary.values);
    expect(listRuns(db).map((r) => [r.id, r.params.language])).toEqual([
      [first.id, 'en'],
      [it_.runId, 'it'],
    ]);
    db.close();
  });

  it('an English-only dataset keeps its identity and params without a language', async () => {
    const db = openDb(':memory:');
    expect(await failure(runRetrieval(() => db, opts({ dataset: 'flickr30k', language: 'de' })))).toMatch(/^flickr30k's captions are English only/);
    expect(listRuns(db)).toHaveLength(0);
  });
});

describe('suites with a language per entry', () => {
  it("multilingual-retrieval: CLIP_benchmark's multilingual_mscoco languages, each a language the adapter lists, one row name each", () => {
    const s = loadSuite('multilingual-retrieval');
    const mscoco = s.datasets.filter((e) => e.dataset === 'multilingual_mscoco');
    expect(mscoco.map((e) => e.language)).toEqual(['es', 'it', 'ko', 'pl', 'ru', 'tr', 'zh', 'en']);
    for (const e of s.datasets) {
      expect(RETRIEVAL_DATASETS[e.dataset as keyof typeof RETRIEVAL_DATASETS].languages).toContain(e.language);
      expect(e.dirs[0]).toBe(e.dataset);
    }
    expect(new Set(s.datasets.map(entryName)).size).toBe(s.datasets.length);
    expect(entryName(mscoco[0])).toBe('multilingual_mscoco es');
  });

  it('a suite entry\'s language reaches the run: one run per language, each with its params.language', async () => {
    const dataRoot = path.join(tmp, 'suite-data');
    writeXtd10Files(path.join(dataRoot, 'xtd10'), '', images);
    for (const im of images) write(path.join(dataRoot, 'xtd10'), path.join('xtd10', 'images', im.name), await jpeg(im.seed));
    const file = path.join(tmp, 'ml-suite.json');
    writeFileSync(file, JSON.stringify({ datasets: [{ dataset: 'xtd10', language: 'de', dirs: ['xtd10'] }, { dataset: 'xtd10', language: 'en', dirs: ['xtd10'] }] }));
    const db = path.join(tmp, 'suite.sqlite');
    const r = spawnSync(process.execPath, [bin, 'suite', '--model', model, '--suite', file, '--data-root', dataRoot, '--db', db, '--quiet', '--recall-k', '1,5'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('2 of 2 datasets ran');
    expect(r.stdout).not.toContain('failed');
    const d = openDb(db, { readonly: true });
    expect(listRuns(d).map((x) => [x.dataset, x.params.language])).toEqual([
      ['xtd10', 'de'],
      ['xtd10', 'en'],
    ]);
    d.close();
    const bad = path.join(tmp, 'bad-suite.json');
    writeFileSync(bad, JSON.stringify({ datasets: [{ dataset: 'xtd10', language: 3, dirs: ['xtd10'] }] }));
    expect(usageFailureSync(() => loadSuite(bad))).toMatch(/datasets\[0\] \(xtd10\): "language" must be a non-empty string/);
  });
});
