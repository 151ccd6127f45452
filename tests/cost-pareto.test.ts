import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/fixtures/random.js';
import { paretoFront, type TradeOff } from '../src/report/cost-pareto.js';

/** The definition, pair by pair: i is dominated when some j is at least as good on both and better on one. */
function bruteForce(points: readonly TradeOff[]): boolean[] {
  return points.map((p, i) => !points.some((q, j) => j !== i && q.accuracy >= p.accuracy && q.cost <= p.cost && (q.accuracy > p.accuracy || q.cost < p.cost)));
}

describe('paretoFront', () => {
  it('a hand case: the cheap, the best, and the one between them; dominated and tied points', () => {
    const pts = [
      { accuracy: 60, cost: 10 }, // cheapest: front
      { accuracy: 70, cost: 20 }, // front
      { accuracy: 65, cost: 25 }, // dominated by 70@20
      { accuracy: 80, cost: 40 }, // best: front
      { accuracy: 80, cost: 40 }, // its twin: also front (neither is strictly better)
      { accuracy: 60, cost: 15 }, // dominated by 60@10 (same accuracy, dearer)
      { accuracy: 55, cost: 10 }, // dominated by 60@10 (same cost, worse)
    ];
    expect(paretoFront(pts)).toEqual([true, true, false, true, true, false, false]);
    expect(paretoFront([])).toEqual([]);
  });

  it('matches the pairwise definition on 500 random sets, with many ties', () => {
    const rand = mulberry32(17);
    for (let t = 0; t < 500; t++) {
      const n = 1 + Math.floor(rand() * 12);
      // few distinct values, so equal accuracies and equal costs are common
      const pts = Array.from({ length: n }, () => ({ accuracy: Math.floor(rand() * 6), cost: Math.floor(rand() * 6) }));
      expect(paretoFront(pts), JSON.stringify(pts)).toEqual(bruteForce(pts));
    }
  });

  it('refuses a non-finite point rather than placing it', () => {
    expect(() => paretoFront([{ accuracy: NaN, cost: 1 }])).toThrow(/non-finite/);
  });
});
