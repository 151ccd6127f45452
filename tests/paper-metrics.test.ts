import { describe, expect, it } from 'vitest';
import {
  binaryScores,
  elevenPointAp,
  elevenPointMap,
  meanPerClassRecall,
  meanTop1Top5,
  perClassCounts,
  perClassElevenPointAp,
  rocAuc,
  top1FromPredictions,
  top1Predictions,
  topKAccuracy,
  topKHits,
  VOC07_RECALL_THRESHOLDS,
} from '../src/eval/paper-metrics.js';
import { mulberry32 } from '../src/fixtures/random.js';

/** Values from a small set, so ties are common. */
function tiedValues(rand: () => number, n: number, levels = 5): Float32Array {
  return Float32Array.from({ length: n }, () => Math.floor(rand() * levels) / (levels - 1));
}

function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

// ---------------------------------------------------------------- oracles, written independently of src

/** Rank of the label in its row when sorted by value descending, index ascending (0 = best). */
function oracleRank(row: Float32Array, label: number): number {
  const order = Array.from(row, (v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return order.findIndex(([, i]) => i === label);
}

function oracleTopKAccuracy(logits: Float32Array, labels: number[], k: number): number | null {
  const C = logits.length / labels.length;
  if (C < k) return null;
  let hits = 0;
  labels.forEach((y, i) => {
    if (oracleRank(logits.subarray(i * C, (i + 1) * C), y) < k) hits++;
  });
  return hits / labels.length;
}

function oracleMeanPerClassRecall(top1: ArrayLike<number>, labels: number[], nClasses: number): number {
  const recalls: number[] = [];
  for (let c = 0; c < nClasses; c++) {
    const idx = labels.map((y, i) => (y === c ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) continue;
    recalls.push(idx.filter((i) => top1[i] === c).length / idx.length);
  }
  return recalls.reduce((a, b) => a + b, 0) / recalls.length;
}

/** MATLAB's `a:d:b` (Cleve Moler's published `colonop`): first half a + k·d, second half b − k·d, exact midpoint. */
function matlabColon(a: number, d: number, b: number): number[] {
  const n = Math.round((b - a) / d);
  const v = new Array<number>(n + 1);
  for (let k = 0; k <= Math.floor(n / 2); k++) {
    v[k] = a + k * d;
    v[n - k] = b - k * d;
  }
  if (n % 2 === 0) v[n / 2] = (a + b) / 2;
  return v;
}

/**
 * VOCevalcls.m, line by line: gt is 1 / -1 / 0 (difficult); [so,si]=sort(-out) is a stable ascending
 * sort with NaN last; tp=cumsum(gt(si)>0); fp=cumsum(gt(si)<0); rec=tp/sum(gt>0); prec=tp./(fp+tp);
 * for t=0:0.1:1, p=max(prec(rec>=t)) (max skips NaN; [] → 0); ap=ap+p/11.
 */
function devkitAp(out: ArrayLike<number>, gt: number[]): number {
  const neg = Array.from(out, (x) => -x);
  const si = neg.map((_, i) => i).sort((a, b) => {
    const na = Number.isNaN(neg[a]);
    const nb = Number.isNaN(neg[b]);
    if (na || nb) return Number(na) - Number(nb);
    return neg[a] < neg[b] ? -1 : neg[a] > neg[b] ? 1 : 0;
  });
  const npos = gt.filter((g) => g > 0).length;
  let tp = 0;
  let fp = 0;
  const rec: number[] = [];
  const prec: number[] = [];
  for (const i of si) {
    if (gt[i] > 0) tp++;
    if (gt[i] < 0) fp++;
    rec.push(tp / npos);
    prec.push(tp / (fp + tp));
  }
  let ap = 0;
  for (const t of matlabColon(0, 0.1, 1)) {
    const sel = prec.filter((p, j) => rec[j] >= t && !Number.isNaN(p));
    const p = sel.length ? Math.max(...sel) : 0;
    ap = ap + p / 11;
  }
  return ap;
}

/** Target (1 / 0 / 255) to the devkit's gt (1 / -1 / 0). */
const toGt = (t: number): number => (t === 1 ? 1 : t === 0 ? -1 : 0);

function oracleAuc(scores: ArrayLike<number>, pos: ArrayLike<number>): number | null {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (pos[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (pos[j] !== 0) continue;
      pairs++;
      if (scores[i] > scores[j]) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return pairs ? wins / pairs : null;
}

// ---------------------------------------------------------------- tests

describe('topKAccuracy / topKHits', () => {
  it('worked by hand', () => {
    // row 0 [0.1, 0.9, 0.5]: order 1, 2, 0 → label 2 is 2nd. row 1 [0.8, 0.2, 0.3]: order 0, 2, 1 → label 0 is 1st.
    const logits = Float32Array.from([0.1, 0.9, 0.5, 0.8, 0.2, 0.3]);
    expect(Array.from(topKHits(logits, [2, 0], 1))).toEqual([0, 1]);
    expect(topKAccuracy(logits, [2, 0], 1)).toBe(0.5);
    expect(topKAccuracy(logits, [2, 0], 2)).toBe(1);
    expect(topKAccuracy(logits, [2, 0], 3)).toBe(1);
    expect(topKAccuracy(logits, [2, 0], 4)).toBeNull(); // only 3 classes: N/A, not a trivial 100%
  });

  it('matches a full sort on 500 random tied inputs', () => {
    const rand = mulberry32(21);
    for (let t = 0; t < 500; t++) {
      const n = randInt(rand, 1, 20);
      const C = randInt(rand, 1, 12);
      const logits = tiedValues(rand, n * C, 4);
      const labels = Array.from({ length: n }, () => randInt(rand, 0, C - 1));
      for (const k of [1, 2, 5]) expect(topKAccuracy(logits, labels, k)).toBe(oracleTopKAccuracy(logits, labels, k));
    }
  });

  it('breaks ties towards the lower class index', () => {
    const logits = Float32Array.from([1, 1, 1]);
    expect(Array.from(topKHits(logits, [0], 1))).toEqual([1]);
    expect(Array.from(topKHits(logits, [1], 1))).toEqual([0]);
    expect(Array.from(top1Predictions(logits, 3))).toEqual([0]);
  });

  it('rejects bad shapes and labels', () => {
    expect(() => topKAccuracy(new Float32Array(0), [], 1)).toThrow(/no samples/);
    expect(() => topKAccuracy(new Float32Array(5), [0, 0], 1)).toThrow(/whole number/);
    expect(() => topKAccuracy(new Float32Array(4), [0, 2], 1)).toThrow(/label 2 of sample 1/);
  });
});

describe('meanTop1Top5', () => {
  it('worked by hand: top-1 miss, top-5 hit → 0.5', () => {
    // logits descending, label 4 ranks 5th: top-1 = 0, top-5 = 1
    expect(meanTop1Top5(Float32Array.from([6, 5, 4, 3, 2, 1]), [4])).toBe(0.5);
    expect(meanTop1Top5(Float32Array.from([1, 2, 3, 4]), [0])).toBeNull(); // C = 4 < 5
  });

  it('is (top-1 + top-5)/2 of the oracle on random inputs', () => {
    const rand = mulberry32(5);
    for (let t = 0; t < 200; t++) {
      const n = randInt(rand, 1, 15);
      const C = randInt(rand, 5, 9);
      const logits = tiedValues(rand, n * C, 3);
      const labels = Array.from({ length: n }, () => randInt(rand, 0, C - 1));
      expect(meanTop1Top5(logits, labels)).toBeCloseTo((oracleTopKAccuracy(logits, labels, 1)! + oracleTopKAccuracy(logits, labels, 5)!) / 2, 14);
    }
  });
});

describe('meanPerClassRecall', () => {
  it('worked by hand, an absent class excluded', () => {
    // class 0: 3 samples, 2 right → 2/3; class 1: 1 sample, right → 1; class 2: no samples → left out
    // mean = (2/3 + 1) / 2 = 5/6
    expect(meanPerClassRecall([0, 0, 1, 1], [0, 0, 0, 1], 3)).toBeCloseTo(5 / 6, 15);
    const { correct, count } = perClassCounts([0, 0, 1, 1], [0, 0, 0, 1], 3);
    expect(Array.from(correct)).toEqual([2, 1, 0]);
    expect(Array.from(count)).toEqual([3, 1, 0]);
  });

  it('differs from accuracy on an imbalanced split', () => {
    // 9 of class 0 all right, 1 of class 1 wrong: accuracy 0.9, mean per-class recall (1 + 0)/2 = 0.5
    const labels = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    expect(meanPerClassRecall(new Int32Array(10), labels, 2)).toBe(0.5);
  });

  it('matches per-class loops on 500 random inputs, failed predictions (-1) counted wrong', () => {
    const rand = mulberry32(8);
    for (let t = 0; t < 500; t++) {
      const n = randInt(rand, 1, 40);
      const C = randInt(rand, 1, 8);
      const labels = Array.from({ length: n }, () => randInt(rand, 0, C - 1));
      const top1 = Int32Array.from(labels, (y) => (rand() < 0.5 ? y : randInt(rand, -1, C - 1)));
      expect(meanPerClassRecall(top1, labels, C)).toBeCloseTo(oracleMeanPerClassRecall(top1, labels, C), 14);
    }
  });

  it('gives the same number from logits and from stored best-first predictions', () => {
    const rand = mulberry32(13);
    const n = 60;
    const C = 7;
    const logits = tiedValues(rand, n * C, 6);
    const labels = Array.from({ length: n }, () => randInt(rand, 0, C - 1));
    const top1 = top1Predictions(logits, C);
    // stored rows: the top-5 list, or null for a failed sample
    const stored = Array.from(top1, (p, i) => (i % 11 === 0 ? null : [p, (p + 1) % C]));
    const fromStored = top1FromPredictions(stored);
    expect(Array.from(fromStored).filter((p) => p === -1)).toHaveLength(6);
    expect(meanPerClassRecall(fromStored, labels, C)).toBeCloseTo(oracleMeanPerClassRecall(fromStored, labels, C), 14);
    expect(meanPerClassRecall(top1, labels, C)).toBeCloseTo(oracleMeanPerClassRecall(top1, labels, C), 14);
  });

  it('rejects labels outside [0, nClasses) and empty input', () => {
    expect(() => meanPerClassRecall([0], [3], 3)).toThrow(/label 3/);
    expect(() => meanPerClassRecall([], [], 3)).toThrow(/no samples/);
  });
});

describe('VOC2007 11-point AP', () => {
  it('uses MATLAB 0:0.1:1 thresholds, with 0.30000000000000004 as the fourth', () => {
    expect(VOC07_RECALL_THRESHOLDS).toEqual(matlabColon(0, 0.1, 1));
    expect(VOC07_RECALL_THRESHOLDS[3]).toBeGreaterThan(0.3);
  });

  it('worked by hand', () => {
    // ranked: pos (rec 1/2, prec 1), neg (rec 1/2, prec 1/2), pos (rec 1, prec 2/3)
    // t = 0 … 0.5 (6 thresholds): max prec at rec ≥ t = 1; t = 0.6 … 1 (5): 2/3 → AP = (6 + 10/3)/11 = 28/33
    expect(elevenPointAp([0.9, 0.8, 0.7], [1, 0, 1])).toBeCloseTo(28 / 33, 15);
    // a difficult image, even ranked first, changes nothing
    expect(elevenPointAp([0.95, 0.9, 0.8, 0.7], [255, 1, 0, 1])).toBeCloseTo(28 / 33, 15);
    // a perfect ranking gives exactly 1 (summed then divided once)
    expect(elevenPointAp([3, 2, 1], [1, 1, 0])).toBe(1);
    // mAP over two classes: class 1's only positive ranks first → AP 1; (28/33 + 1)/2 = 61/66
    const scores = Float32Array.from([0.9, 0.1, 0.8, 0.7, 0.7, 0.2]);
    expect(elevenPointMap(scores, Uint8Array.from([1, 0, 0, 1, 1, 0]), 2)).toBeCloseTo(61 / 66, 15);
  });

  it('worked by hand: a recall of exactly 3/10 does not reach the 0.3 threshold, as in the devkit', () => {
    // 10 positives: P P P, then 7 N, then 7 P. Recall 3/10 = 0.3 < 0.30000000000000004.
    // t = 0, 0.1, 0.2: p = 1. t = 0.3+ … 1 (8 thresholds): points from rec 0.4 on, prec 4/11 … 10/17, max 10/17.
    // AP = (3 + 8·10/17)/11 = 131/187 (with a plain 0.3 it would be (4 + 7·10/17)/11 = 138/187).
    const targets = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1];
    const scores = targets.map((_, i) => 100 - i);
    expect(elevenPointAp(scores, targets)).toBeCloseTo(131 / 187, 15);
    expect(devkitAp(scores, targets.map(toGt))).toBeCloseTo(131 / 187, 15);
  });

  it('ranks tied scores in index order (MATLAB stable sort) and NaN last', () => {
    // tie between a negative (index 0) and a positive (index 1): negative first → prec 1/2 at full recall
    expect(elevenPointAp([0.5, 0.5], [0, 1])).toBeCloseTo(0.5, 15);
    expect(elevenPointAp([0.5, 0.5], [1, 0])).toBe(1);
    // NaN ranks below everything, -Infinity included
    expect(elevenPointAp([NaN, -Infinity], [0, 1])).toBe(1);
  });

  it('matches the devkit loop on 1000 random columns with ties, difficult images and ±Infinity', () => {
    const rand = mulberry32(2007);
    for (let t = 0; t < 1000; t++) {
      const n = randInt(rand, 1, 40);
      const scores = tiedValues(rand, n, randInt(rand, 2, 6));
      if (rand() < 0.2) scores[randInt(rand, 0, n - 1)] = -Infinity;
      if (rand() < 0.2) scores[randInt(rand, 0, n - 1)] = Infinity;
      const targets = Array.from({ length: n }, () => (rand() < 0.1 ? 255 : rand() < 0.4 ? 1 : 0));
      const ap = elevenPointAp(scores, targets);
      if (!targets.includes(1)) expect(ap).toBeNull();
      else expect(ap).toBeCloseTo(devkitAp(scores, targets.map(toGt)), 14);
    }
  });

  it('averages per-class AP over the classes with a positive', () => {
    const rand = mulberry32(77);
    for (let t = 0; t < 200; t++) {
      const n = randInt(rand, 2, 25);
      const C = randInt(rand, 1, 5);
      const scores = tiedValues(rand, n * C, 4);
      const targets = Uint8Array.from({ length: n * C }, () => (rand() < 0.05 ? 255 : rand() < 0.3 ? 1 : 0));
      const expected: number[] = [];
      for (let c = 0; c < C; c++) {
        const col = Array.from({ length: n }, (_, i) => scores[i * C + c]);
        const gt = Array.from({ length: n }, (_, i) => toGt(targets[i * C + c]));
        if (gt.includes(1)) expected.push(devkitAp(col, gt));
      }
      const aps = perClassElevenPointAp(scores, targets, C);
      expect(aps.filter((a) => a !== null)).toHaveLength(expected.length);
      if (expected.length === 0) expect(() => elevenPointMap(scores, targets, C)).toThrow(/no class has a positive/);
      else expect(elevenPointMap(scores, targets, C)).toBeCloseTo(expected.reduce((a, b) => a + b, 0) / expected.length, 14);
    }
  });

  it('rejects targets other than 0, 1, 255', () => {
    expect(() => elevenPointAp([1, 2], [1, 2])).toThrow(/target 2 of sample 1/);
  });
});

describe('rocAuc', () => {
  it('worked by hand, with a tie', () => {
    // positives 0.9, 0.4; negatives 0.4, 0.1. Pairs: (0.9,0.4) 1, (0.9,0.1) 1, (0.4,0.4) ½, (0.4,0.1) 1 → 3.5/4
    expect(rocAuc([0.9, 0.4, 0.4, 0.1], [1, 1, 0, 0])).toBe(0.875);
    expect(rocAuc([1, 1, 1], [1, 0, 0])).toBe(0.5);
    expect(rocAuc([0, 1], [1, 0])).toBe(0);
    expect(rocAuc([1, 2], [1, 1])).toBeNull();
    expect(rocAuc([], [])).toBeNull();
  });

  it('counts all positive/negative pairs on 1000 random tied inputs', () => {
    const rand = mulberry32(99);
    for (let t = 0; t < 1000; t++) {
      const n = randInt(rand, 0, 50);
      const scores = tiedValues(rand, n, randInt(rand, 2, 8));
      if (n && rand() < 0.2) scores[randInt(rand, 0, n - 1)] = Infinity;
      if (n && rand() < 0.2) scores[randInt(rand, 0, n - 1)] = -Infinity;
      const pos = Uint8Array.from({ length: n }, () => (rand() < 0.4 ? 1 : 0));
      const expected = oracleAuc(scores, pos);
      if (expected === null) expect(rocAuc(scores, pos)).toBeNull();
      else expect(rocAuc(scores, pos)).toBeCloseTo(expected, 14);
    }
  });

  it('from two-class logits equals the AUC of the float64 softmax probability', () => {
    const rand = mulberry32(4);
    const n = 300;
    const logits = Float32Array.from({ length: 2 * n }, () => 0.2 + 0.1 * rand());
    const pos = Uint8Array.from({ length: n }, (_, i) => (logits[2 * i + 1] - logits[2 * i] + 0.03 * (rand() - 0.5) > 0 ? 1 : 0));
    const prob = Array.from({ length: n }, (_, i) => 1 / (1 + Math.exp(-100 * (logits[2 * i + 1] - logits[2 * i]))));
    expect(rocAuc(binaryScores(logits), pos)).toBeCloseTo(oracleAuc(prob, pos)!, 14);
    expect(rocAuc(binaryScores(logits, 0), pos)).toBeCloseTo(1 - oracleAuc(prob, pos)!, 14);
  });

  it('rejects NaN scores and non-binary targets', () => {
    expect(() => rocAuc([NaN, 1], [0, 1])).toThrow(/NaN/);
    expect(() => rocAuc([0, 1], [0, 2])).toThrow(/not 0 or 1/);
  });
});
