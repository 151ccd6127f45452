import { describe, expect, it } from 'vitest';
import { compareRuns, formatComparison } from '../src/report/compare.js';
import type { PredictionRow, RunRecord } from '../src/store/runs.js';

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
