import { describe, expect, it } from 'vitest';
import { computeRunMetrics } from '../src/eval/run-metrics.js';
import type { PredictionRow } from '../src/store/runs.js';

const row = (idx: number, label: number, top5: number[] | null, logits?: number[]): PredictionRow => ({
  idx,
  key: `k${idx}`,
  label,
  top5,
  top5Logits: top5 ? (logits ?? top5.map((_, i) => 10 - i)) : null,
  error: top5 ? null : 'corrupt',
});

describe('computeRunMetrics (worked by hand)', () => {
  it('three classes: top-5 is N/A, mean per-class recall averages the classes, failures count as wrong by default', () => {
    // class 0: 2 samples, 1 right; class 1: 1 sample, right; class 2: 1 sample that failed to decode
    const rows = [row(0, 0, [0, 1, 2]), row(1, 0, [1, 0, 2]), row(2, 1, [1, 2, 0]), row(3, 2, null)];
    const m = computeRunMetrics(rows, 3, 'mean-per-class-recall', false);
    expect(m).toMatchObject({ n: 4, nFailed: 1, top1: 0.5, top5: null, headline: 'mean-per-class-recall' });
    // recall: class 0 = 1/2, class 1 = 1, class 2 = 0 → mean 0.5
    expect(m.headlineValue).toBeCloseTo(0.5, 12);
    const excl = computeRunMetrics(rows, 3, 'top1', true);
    expect(excl).toMatchObject({ n: 3, nFailed: 1, top1: 2 / 3, headlineValue: 2 / 3 });
    expect(excl.metrics).toMatchObject({ failed_samples_count_as_wrong: false });
  });

  it('two classes: ROC AUC of logit(1) − logit(0), ties half', () => {
    // scores of class 1: 3, -1, 2, 2 for labels 1, 0, 0, 1 → positive/negative pairs:
    // (3 vs -1) 1, (3 vs 2) 1, (2 vs -1) 1, (2 vs 2) ½ → 3.5 / 4
    const rows = [row(0, 1, [1, 0], [2, -1]), row(1, 0, [0, 1], [0.5, -0.5]), row(2, 0, [1, 0], [3, 1]), row(3, 1, [1, 0], [2.5, 0.5])];
    const m = computeRunMetrics(rows, 2, 'roc-auc', false);
    expect(m.headlineValue).toBeCloseTo(3.5 / 4, 12);
  });

  it('mean(top-1, top-5) for Kinetics-style scoring', () => {
    const rows = [row(0, 3, [0, 1, 2, 3, 4]), row(1, 0, [0, 1, 2, 3, 4]), row(2, 6, [0, 1, 2, 3, 4])];
    const m = computeRunMetrics(rows, 10, 'mean-top1-top5', false);
    expect(m.top1).toBeCloseTo(1 / 3, 12);
    expect(m.top5).toBeCloseTo(2 / 3, 12);
    expect(m.headlineValue).toBeCloseTo(0.5, 12);
  });
});
