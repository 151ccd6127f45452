import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareRuns, comparisonLabels, formatComparison, settingDifferences } from '../src/report/compare.js';
import { openDb } from '../src/store/db.js';
import { createRun, finishRun, insertPredictions, type PredictionRow, type RunRecord } from '../src/store/runs.js';
import { cli, lines, requireBuilt } from './faults/support/faults.js';
import { runIdentity } from './support/run-identity.js';

const run = (id: number, variant: string, over: Partial<RunRecord> = {}) =>
  ({ id, modelName: 'm', modelVariant: variant, dataset: 'd', split: 'all', params: { classIds: ['cat', 'dog'] }, ...over }) as RunRecord;
const pred = (idx: number, label: number, top1: number): PredictionRow => ({ idx, key: `k${idx}`, label, top5: [top1, 1 - top1], top5Logits: [1, 0], error: null });

describe('compareRuns (hand-worked)', () => {
  it('counts flips, agreement and per-class deltas; McNemar on the discordant pairs', () => {
    // 10 samples; A right on all; B wrong on samples 0..4 (all class 0 "cat")
    const labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
    const A = { run: run(1, 'fp32'), predictions: labels.map((l, i) => pred(i, l, l)) };
    const B = { run: run(2, 'int8'), predictions: labels.map((l, i) => pred(i, l, i < 5 ? 1 - l : l)) };
    const c = compareRuns(A, B, { seed: 1, iterations: 2000 });
    expect(c).toMatchObject({ paired: 10, rightToWrong: 5, wrongToRight: 0, agreement: 0.5 });
    expect(c.a.accuracy).toBe(1);
    expect(c.b.accuracy).toBe(0.5);
    expect(c.diff).toBeCloseTo(-0.5, 12);
    // exact McNemar: b = 5, c = 0 → 2 · (1/2)^5 = 0.0625
    expect(c.p).toBeCloseTo(0.0625, 12);
    expect(c.perClass[0]).toMatchObject({ classId: 'cat', n: 5, accuracyA: 1, accuracyB: 0, delta: -1 });
    expect(c.perClass[1]).toMatchObject({ classId: 'dog', delta: 0 });
    expect(c.sentence).toMatch(/^int8 loses 50\.00 points \[\d+\.\d\d, \d+\.\d\d\], p = 0\.063; 50\.0% of predictions change$/);
    expect(formatComparison(c)).toContain('flips: 5 right → wrong, 0 wrong → right; top-1 predictions agree on 50.00%');
  });

  it('pairs samples by key and refuses runs on different data', () => {
    const A = { run: run(1, 'fp32'), predictions: [pred(0, 0, 0), pred(1, 1, 1)] };
    const B = { run: run(2, 'fp16'), predictions: [{ ...pred(5, 1, 1), key: 'k1' }] };
    expect(compareRuns(A, B).paired).toBe(1);
    expect(() => compareRuns(A, { ...B, run: run(2, 'fp16', { dataset: 'other' }) })).toThrow(/different data/);
    expect(() => compareRuns(A, { ...B, predictions: [{ ...pred(9, 0, 0), key: 'zz' }] })).toThrow(/share no samples/);
  });
});

/**
 * Issue 14, item 3: `compare --models` pairs only runs of one setting (dataset root, split, prompt set,
 * preprocessing), and whatever two runs are compared, the output and the page title say what differs.
 */
describe('compare pairs runs of one setting, or says what differs', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-compare-'));
  const file = path.join(tmp, 'r.sqlite');
  const labels = Array.from({ length: 20 }, (_, i) => i % 2);
  const ids: Record<string, number> = {};
  beforeAll(() => {
    requireBuilt();
    const db = openDb(file);
    const add = (name: string, model: string, promptSet: string, wrong: number) => {
      const id = createRun(db, runIdentity({ modelName: model, modelFingerprint: model.padEnd(64, '0'), dataset: 'imagenet', nClasses: 2, promptSet, promptHash: `hash-${promptSet}`, params: { classIds: ['cat', 'dog'], preprocess: { size: 224 } } }));
      insertPredictions(db, id, labels.map((l, i) => pred(i, l, i < wrong ? 1 - l : l)));
      finishRun(db, id, { n: 20, nFailed: 0, top1: 1 - wrong / 20, top5: null, metrics: {}, timings: {} });
      ids[name] = id;
    };
    add('hf-imagenet', 'hf', 'imagenet', 2);
    add('immich-imagenet', 'immich', 'imagenet', 4);
    add('hf-imagenet-7', 'hf', 'imagenet-7', 10); // hf's latest run, with another prompt set
    add('solo-7', 'solo', 'imagenet-7', 0);
    db.close();
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('--models pairs the two models\' runs with the same prompt set, not each one\'s latest', () => {
    const r = cli(['compare', '--models', 'hf,immich', '--dataset', 'imagenet', '--db', file, '--format', 'json']);
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout);
    expect([c.a.runId, c.b.runId]).toEqual([ids['hf-imagenet'], ids['immich-imagenet']]);
    expect(c.differences).toEqual([]);
    expect(cli(['compare', '--models', 'hf,immich', '--dataset', 'imagenet', '--db', file]).stdout).toContain('same setting: dataset root, split, prompt set, preprocessing');
  });

  it('--models with no shared setting: one line saying what differs, exit 2', () => {
    const r = cli(['compare', '--models', 'immich,solo', '--dataset', 'imagenet', '--db', file]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([
      `clip-bench: no runs of "immich" and "solo" on imagenet share a setting: prompts "imagenet" (run ${ids['immich-imagenet']}) vs "imagenet-7" (run ${ids['solo-7']}) — evaluate both with the same --root, --split, --prompts and preprocessing, or pass --runs A,B to compare two runs anyway (the output says what differs)`,
    ]);
  });

  it('--runs of two prompt sets of one model: the text and the page title name the prompt sets, not "hf vs hf"', () => {
    const runs = `${ids['hf-imagenet']},${ids['hf-imagenet-7']}`;
    const text = cli(['compare', '--runs', runs, '--db', file]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`not the same setting: prompts "imagenet-7" (run ${ids['hf-imagenet-7']}) vs "imagenet" (run ${ids['hf-imagenet']})`);
    expect(text.stdout).toMatch(/prompts "imagenet-7" loses 40\.00 points/);
    const out = path.join(tmp, 'c.html');
    expect(cli(['compare', '--runs', runs, '--db', file, '--format', 'html', '--out', out]).code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<h1>prompts &quot;imagenet-7&quot; vs &quot;imagenet&quot; on imagenet</h1>');
    expect(html).not.toContain('hf vs hf');
  });

  it('two models and two prompt sets: both named', () => {
    const a = { id: 1, modelName: 'hf', modelVariant: 'fp32', modelFingerprint: 'a', dataset: 'd', datasetRoot: '/data/d', split: 'all', promptSet: 'imagenet', promptHash: 'x', params: {} } as unknown as RunRecord;
    const b = { ...a, id: 2, modelName: 'immich', modelFingerprint: 'b', promptSet: 'imagenet-7', promptHash: 'y' } as RunRecord;
    expect(comparisonLabels(a, b)).toEqual(['hf, prompts "imagenet"', 'immich, prompts "imagenet-7"']);
    expect(settingDifferences(a, { ...b, datasetRoot: '/elsewhere' })).toEqual([
      { setting: 'root', a: '/data/d', b: '/elsewhere' },
      { setting: 'prompts', a: '"imagenet"', b: '"imagenet-7"' },
    ]);
  });
});
