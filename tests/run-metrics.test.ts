import { describe, expect, it } from 'vitest';
import { VOC07_RECALL_THRESHOLDS, VOC_DIFFICULT } from '../src/eval/paper-metrics.js';
import { computeRunMetrics } from '../src/eval/run-metrics.js';
import { mulberry32 } from '../src/fixtures/random.js';
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

/**
 * One rule for failed samples in every metric, checked against brute force on random runs: by default a
 * failed sample is wrong — in ROC AUC it loses every pair it is in; in 11-point AP it is retrieved after every
 * other sample where it is a positive of the class (a miss) and before every other sample where it is a
 * negative (a false alarm) — and with excludeFailures it is in no metric at all.
 */
describe('failed samples in ranking metrics (brute-force oracle)', () => {
  const rng = mulberry32(14);
  const failed = (r: PredictionRow) => r.top5 === null;

  /** AUC by enumerating every positive/negative pair: a failed sample loses its pair, ties count half. */
  function aucOracle(rows: readonly PredictionRow[], score: (r: PredictionRow) => number): number {
    let wins = 0;
    let pairs = 0;
    for (const p of rows.filter((r) => r.label === 1)) {
      for (const q of rows.filter((r) => r.label === 0)) {
        pairs++;
        if (failed(p) || failed(q)) continue;
        wins += score(p) > score(q) ? 1 : score(p) === score(q) ? 0.5 : 0;
      }
    }
    return wins / pairs;
  }

  /** 11-point AP from precision and recall at every cutoff of an explicit ranking (no ties: scores are random floats). */
  function apOracle(rows: readonly PredictionRow[], c: number): number {
    const kept = rows.filter((r) => r.targets![c] !== VOC_DIFFICULT);
    const positive = (r: PredictionRow) => r.targets![c] === 1;
    const rank = (r: PredictionRow) => (failed(r) ? (positive(r) ? 2 : 0) : 1); // failed negatives first, failed positives last
    const order = [...kept].sort((a, b) => rank(a) - rank(b) || (rank(a) === 1 ? b.scores![c] - a.scores![c] : 0));
    const nPos = kept.filter(positive).length;
    const points = order.map((_, k) => {
      const tp = order.slice(0, k + 1).filter(positive).length;
      return { recall: tp / nPos, precision: tp / (k + 1) };
    });
    const at = (t: number) => Math.max(0, ...points.filter((p) => p.recall >= t).map((p) => p.precision));
    return VOC07_RECALL_THRESHOLDS.reduce((s, t) => s + at(t), 0) / VOC07_RECALL_THRESHOLDS.length;
  }

  it.each([false, true])('ROC AUC with 1 in 4 samples failed (excludeFailures %s)', (exclude) => {
    for (let trial = 0; trial < 20; trial++) {
      const rows = Array.from({ length: 24 }, (_, i) => {
        const label = i < 2 ? i : rng() < 0.5 ? 1 : 0; // both classes present
        if (i >= 2 && rng() < 0.25) return row(i, label, null);
        const l = [rng() * 4, rng() * 4];
        const top5 = l[1] > l[0] ? [1, 0] : [0, 1];
        return row(i, label, top5, top5.map((c) => l[c]));
      });
      const score = (r: PredictionRow) => r.top5Logits![r.top5!.indexOf(1)] - r.top5Logits![r.top5!.indexOf(0)];
      const m = computeRunMetrics(rows, 2, 'roc-auc', exclude);
      const counted = exclude ? rows.filter((r) => !failed(r)) : rows;
      expect(m.n).toBe(counted.length);
      expect(m.headlineValue).toBeCloseTo(aucOracle(counted, score), 12);
    }
  });

  it.each([false, true])('VOC2007 11-point mAP with 1 in 4 samples failed, difficult targets among them (excludeFailures %s)', (exclude) => {
    const C = 4;
    for (let trial = 0; trial < 20; trial++) {
      const rows: PredictionRow[] = Array.from({ length: 30 }, (_, i) => {
        const targets = Uint8Array.from({ length: C }, (_, c) => (i === c ? 1 : rng() < 0.1 ? VOC_DIFFICULT : rng() < 0.35 ? 1 : 0)); // every class has a positive
        const ok = i < C || rng() >= 0.25;
        const scores = ok ? Float32Array.from({ length: C }, () => rng() * 10 - 5) : null;
        const top5 = scores ? [...scores.keys()].sort((a, b) => scores[b] - scores[a]) : null;
        return { ...row(i, 0, top5, top5?.map((c) => scores![c])), targets, scores };
      });
      const m = computeRunMetrics(rows, C, 'map-11pt', exclude);
      const counted = exclude ? rows.filter((r) => !failed(r)) : rows;
      const oracle = Array.from({ length: C }, (_, c) => apOracle(counted, c)).reduce((s, x) => s + x, 0) / C;
      expect(m.headlineValue).toBeCloseTo(oracle, 9);
    }
  });

  it('a failed negative is a false alarm, not a correct rejection: one class, hand-worked', () => {
    // scores 0.9 (positive), 0.8 (negative); a third image failed and is a negative: ranked first, so
    // precision at the positive is 1/2 and AP = 0.5 (today's bug ranked it last, giving a perfect 1)
    const one = (i: number, t: number, s: number | null): PredictionRow => ({ ...row(i, 0, s === null ? null : [0], s === null ? undefined : [s]), targets: Uint8Array.of(t), scores: s === null ? null : Float32Array.of(s) });
    const m = computeRunMetrics([one(0, 1, 0.9), one(1, 0, 0.8), one(2, 0, null)], 1, 'map-11pt', false);
    expect(m.headlineValue).toBeCloseTo(0.5, 12);
    expect(m.metrics).toMatchObject({ failed_samples: 1, failed_samples_count_as_wrong: true });
  });
});
