/**
 * The evaluation engine's promises: caches reuse work without changing results, an interrupted run
 * resumes to exactly the uninterrupted result, and shards merge into exactly the unsharded run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunInterrupted, runZeroShot, selectSamples, summarisePredictions, type EvalOptions } from '../src/eval/zero-shot.js';
import { writeDemo, type DemoPaths } from '../src/fixtures/demo.js';
import { writeClipArch, fixtureTexts } from '../src/fixtures/fixture-models.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { cacheStats } from '../src/store/cache.js';
import { openDb } from '../src/store/db.js';
import { mergeShardRuns } from '../src/store/merge.js';
import { getRun, iteratePredictions, listRuns } from '../src/store/runs.js';

let tmp: string;
let demo: DemoPaths;
let arch: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-engine-'));
  demo = await writeDemo(path.join(tmp, 'demo'), 4);
  arch = path.join(tmp, 'tiny');
  // the random architecture: logits with no construction-given margins, so equality checks are sharp
  await writeClipArch(arch, 'tiny', fixtureTexts(loadPromptSet('colours').templates));
});

const opts = (over: Partial<EvalOptions> = {}): EvalOptions => ({ modelDir: arch, dataset: 'imagefolder', root: demo.root, prompts: 'colours', batchSize: 5, workers: 2, ...over });
const predictions = (db: ReturnType<typeof openDb>, runId: number) => [...iteratePredictions(db, runId)];

describe('selectSamples', () => {
  it('shards are disjoint, cover the (limited) split, and keep global indices', () => {
    const all = Array.from({ length: 23 }, (_, i) => ({ key: `k${i}`, path: `p${i}`, label: i % 3 }));
    const whole = selectSamples(all, 17, undefined);
    const shards = [0, 1, 2].map((index) => selectSamples(all, 17, { index, count: 3 }));
    expect(shards.flat().map((s) => s.idx).sort((a, b) => a - b)).toEqual(whole.map((s) => s.idx));
    expect(shards[1].map((s) => s.idx)).toEqual([1, 4, 7, 10, 13, 16]);
    expect(shards[1][0].sample).toBe(whole[1].sample);
  });
});

describe('caches', () => {
  it('a second run reuses every prompt and image embedding and gives identical predictions; --no-cache stores nothing', async () => {
    const db = openDb(path.join(tmp, 'cache.sqlite'));
    const a = await runZeroShot(db, opts());
    expect(a.cache).toMatchObject({ imageHits: 0, imageMisses: 32, textHits: 0, textMisses: 40 });
    const b = await runZeroShot(db, opts());
    expect(b.cache).toMatchObject({ imageHits: 32, imageMisses: 0, textHits: 40, textMisses: 0 });
    expect(b.runId).not.toBe(a.runId);
    expect(predictions(db, b.runId)).toEqual(predictions(db, a.runId));
    // another prompt set re-scores the same images from the cache
    const other = path.join(tmp, 'two-templates.json');
    writeFileSync(other, JSON.stringify({ templates: ['a {c} square.', 'the colour {c}.'] }));
    const c = await runZeroShot(db, opts({ prompts: other }));
    expect(c.cache).toMatchObject({ imageHits: 32, imageMisses: 0, textHits: 16, textMisses: 0 });
    const fresh = openDb(':memory:');
    const d = await runZeroShot(fresh, opts({ cache: false }));
    expect(d.cache).toMatchObject({ imageHits: 0, textHits: 0 });
    expect(cacheStats(fresh)).toMatchObject({ textEmbeddings: 0, imageEmbeddings: 0 });
    expect(predictions(fresh, d.runId)).toEqual(predictions(db, a.runId));
  });
});

describe('skipFinished and the model name', () => {
  it('skipFinished returns the finished run of the same identity as it is, whatever name it was stored under; without it a new run is made', async () => {
    const db = openDb(':memory:');
    const first = await runZeroShot(db, opts({ name: 'stored-name' }));
    expect([first.model, getRun(db, first.runId).modelName, first.doneEarlier]).toEqual(['stored-name', 'stored-name', undefined]);
    const again = await runZeroShot(db, opts({ skipFinished: true }));
    expect([again.runId, again.doneEarlier, again.model]).toEqual([first.runId, true, path.basename(arch)]);
    expect([again.top1, again.top5, again.n]).toEqual([first.top1, first.top5, first.n]);
    expect(again.cache).toEqual({ imageHits: 0, imageMisses: 0, textHits: 0, textMisses: 0 }); // nothing encoded
    expect(getRun(db, first.runId).modelName).toBe('stored-name');
    // another identity (a limit) is not the finished run
    const limited = await runZeroShot(db, opts({ skipFinished: true, limit: 8 }));
    expect([limited.runId === first.runId, limited.doneEarlier, limited.n]).toEqual([false, undefined, 8]);
    const plain = await runZeroShot(db, opts());
    expect(plain.runId).not.toBe(first.runId);
    expect(listRuns(db)).toHaveLength(3);
  });
});

describe('resume', () => {
  it('an interrupted run continues to exactly the uninterrupted result, without duplicates', async () => {
    const reference = openDb(':memory:');
    const whole = await runZeroShot(reference, opts({ cache: false }));

    const db = openDb(path.join(tmp, 'resume.sqlite'));
    const controller = new AbortController();
    let batches = 0;
    const interrupted = runZeroShot(db, opts({ cache: false, signal: controller.signal }), (p) => {
      if (p.stage === 'images' && ++batches === 2) controller.abort();
    });
    await expect(interrupted).rejects.toBeInstanceOf(RunInterrupted);
    const [run] = listRuns(db);
    expect(run.status).toBe('interrupted');
    const partial = predictions(db, run.id).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(whole.n);

    const resumed = await runZeroShot(db, opts({ cache: false }));
    expect(resumed).toMatchObject({ runId: run.id, resumed: true, n: whole.n, top1: whole.top1, top5: whole.top5 });
    expect(predictions(db, run.id)).toEqual(predictions(reference, whole.runId));
    expect(getRun(db, run.id).status).toBe('finished');
  });

  it('--resume refuses a run made with other settings', async () => {
    const db = openDb(':memory:');
    const r = await runZeroShot(db, opts({ limit: 8 }));
    await expect(runZeroShot(db, opts({ limit: 9, resume: r.runId }))).rejects.toThrow(/made with other settings/);
    await expect(runZeroShot(db, opts({ limit: 8, resume: r.runId }))).rejects.toThrow(/already finished/);
  });
});

describe('shards and merge', () => {
  it('three shard DBs merge into exactly the unsharded run; an incomplete set is refused', async () => {
    const whole = openDb(':memory:');
    const w = await runZeroShot(whole, opts({ cache: false, limit: 29 }));
    const sources: { file: string; db: ReturnType<typeof openDb> }[] = [];
    for (let i = 0; i < 3; i++) {
      const file = path.join(tmp, `shard-${i}.sqlite`);
      const db = openDb(file);
      const r = await runZeroShot(db, opts({ cache: false, limit: 29, shard: { index: i, count: 3 } }));
      expect(r.shard).toBe(`${i}/3`);
      sources.push({ file, db });
    }
    const summarise = summarisePredictions;
    expect(() => mergeShardRuns(sources.slice(0, 2), openDb(':memory:'), summarise)).toThrow(/shards 2\/3 are missing or unfinished/);
    const into = openDb(path.join(tmp, 'merged.sqlite'));
    const [m] = mergeShardRuns(sources, into, summarise);
    expect(m.shards).toBe(3);
    const merged = getRun(into, m.runId);
    const unsharded = getRun(whole, w.runId);
    expect(merged).toMatchObject({ status: 'finished', shard: null, identity: unsharded.identity, n: 29, top1: unsharded.top1, top5: unsharded.top5, metrics: unsharded.metrics });
    expect(predictions(into, m.runId)).toEqual(predictions(whole, w.runId));
  });
});
