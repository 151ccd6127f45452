import { describe, expect, it } from 'vitest';
import { accuracyStderr, softmaxTop, topK, topKCorrect } from '../src/eval/metrics.js';
import { mulberry32 } from '../src/fixtures/random.js';

/** Brute-force oracle: sort all indices by value descending, stable on index. */
function oracleTopK(row: number[], k: number): number[] {
  return row
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

describe('topK', () => {
  it('matches a brute-force sort on 2000 random rows, ties included', () => {
    const rand = mulberry32(11);
    for (let t = 0; t < 2000; t++) {
      const n = 1 + Math.floor(rand() * 30);
      // values from a small set so ties are common
      const row = Array.from({ length: n }, () => Math.floor(rand() * 6) / 2);
      const k = 1 + Math.floor(rand() * 7);
      expect(topK(row, k)).toEqual(oracleTopK(row, k));
    }
  });

  it('handles k larger than the row and ignores NaN', () => {
    expect(topK([0.2, 0.9], 5)).toEqual([1, 0]);
    expect(topK([NaN, 0.1, 0.3], 2)).toEqual([2, 1]);
  });
});

describe('topKCorrect', () => {
  it('counts hits within the first k and failed samples as wrong', () => {
    const preds = [[2, 1, 0], [0, 2, 1], null, [1, 0, 2]];
    const labels = [2, 2, 0, 2];
    expect(topKCorrect(preds, labels, 1)).toBe(1);
    expect(topKCorrect(preds, labels, 2)).toBe(2);
    expect(topKCorrect(preds, labels, 3)).toBe(3);
  });
});

describe('accuracyStderr', () => {
  it('is the sample standard error of a Bernoulli mean', () => {
    // 0.5 over 101 samples: sqrt(0.25/100) = 0.05
    expect(accuracyStderr(0.5, 101)).toBeCloseTo(0.05, 12);
    expect(accuracyStderr(1, 50)).toBe(0);
  });
});

describe('softmaxTop', () => {
  it('equals 1 / Σ exp(l_j − l_c) on random rows at logit scale 100, and stays finite where exp(l) overflows', () => {
    const rand = mulberry32(5);
    for (let t = 0; t < 500; t++) {
      const row = Array.from({ length: 1 + Math.floor(rand() * 50) }, () => (rand() - 0.5) * 0.6 * 100);
      const c = Math.floor(rand() * row.length);
      const oracle = 1 / row.reduce((s, l) => s + Math.exp(l - row[c]), 0);
      expect(softmaxTop(row, c)).toBeCloseTo(oracle, 12);
    }
    expect(softmaxTop([1000, 1000 - Math.log(3)], 0)).toBeCloseTo(0.75, 12);
  });
});
