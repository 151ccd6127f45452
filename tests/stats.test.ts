import { quantile } from 'd3-array';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/fixtures/random.js';
import {
  changedFraction,
  confidenceBin,
  describeComparison,
  discordantCounts,
  expectedCalibrationError,
  formatInterval,
  formatPValue,
  mcnemarExact,
  pairedBootstrap,
  pairedBootstrapSamples,
  type Comparison,
} from '../src/report/stats.js';

// ---------------------------------------------------------------- oracles, written independently of src

/** Exact two-sided McNemar p from BigInt binomial sums: 2·Σ_{k≤m} C(n,k) / 2^n, to double precision. */
function exactMcnemar(b: number, c: number): number {
  const n = b + c;
  const m = Math.min(b, c);
  let binom = 1n;
  let sum = 0n;
  for (let k = 0; k <= m; k++) {
    sum += binom;
    binom = (binom * BigInt(n - k)) / BigInt(k + 1);
  }
  // 2·sum / 2^n to double precision: shift so the integer quotient has ~64 significant bits, then scale back
  const num = 2n * sum;
  const shift = n - num.toString(2).length + 64;
  const q = Number((num << BigInt(shift)) / (1n << BigInt(n)));
  return Math.min(1, q * 2 ** -64 * 2 ** -(shift - 64));
}

/** Correctness vectors with given accuracies and a given share of the disagreements, shuffled. */
function pairedOutcomes(rand: () => number, n: number, pBoth: number, pOnlyA: number, pOnlyB: number): [Uint8Array, Uint8Array] {
  const a = new Uint8Array(n);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const u = rand();
    if (u < pBoth) a[i] = b[i] = 1;
    else if (u < pBoth + pOnlyA) a[i] = 1;
    else if (u < pBoth + pOnlyA + pOnlyB) b[i] = 1;
  }
  return [a, b];
}

/** The textbook bootstrap: draw n indices with replacement, recompute mean(B) − mean(A). */
function naiveBootstrap(a: Uint8Array, b: Uint8Array, iterations: number, seed: number): Float64Array {
  const rand = mulberry32(seed);
  const n = a.length;
  const out = new Float64Array(iterations);
  for (let it = 0; it < iterations; it++) {
    let sa = 0;
    let sb = 0;
    for (let j = 0; j < n; j++) {
      const i = Math.floor(rand() * n);
      sa += a[i];
      sb += b[i];
    }
    out[it] = sb / n - sa / n;
  }
  return out;
}

/** ECE straight from the definition: softmax by exp/Σexp, bins (k/B, (k+1)/B] found by scanning. */
function oracleEce(logits: Float32Array, labels: number[], scale: number, bins: number): number {
  const n = labels.length;
  const C = logits.length / n;
  const acc = new Array<number>(bins).fill(0);
  const conf = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    const e = Array.from(logits.subarray(i * C, (i + 1) * C), (x) => Math.exp(scale * x));
    const z = e.reduce((s, x) => s + x, 0);
    const probs = e.map((x) => x / z);
    let pred = 0;
    for (let j = 1; j < C; j++) if (logits[i * C + j] > logits[i * C + pred]) pred = j;
    const p = probs[pred];
    for (let k = 0; k < bins; k++) {
      if (p > k / bins && p <= (k + 1) / bins) {
        acc[k] += pred === labels[i] ? 1 : 0;
        conf[k] += p;
      }
    }
  }
  return acc.reduce((s, a, k) => s + Math.abs(a - conf[k]) / n, 0);
}

// ---------------------------------------------------------------- McNemar

describe('mcnemarExact', () => {
  it.each([
    // b=0, c=5: P[X ≤ 0] = 1/32 → p = 2/32
    [0, 5, 0.0625],
    [5, 0, 0.0625],
    // b = c: the doubled lower tail is ≥ 1 → 1
    [3, 3, 1],
    [0, 0, 1],
    // b=0, c=1: 2 · 1/2 = 1
    [0, 1, 1],
    // b=1, c=6: n=7, P[X ≤ 1] = (1 + 7)/128 = 1/16 → p = 0.125
    [1, 6, 0.125],
    // b=2, c=10: n=12, P[X ≤ 2] = (1 + 12 + 66)/4096 = 79/4096 → p = 79/2048
    [2, 10, 79 / 2048],
  ])('b=%i, c=%i → %f (worked by hand)', (b, c, p) => {
    expect(mcnemarExact(b, c)).toBeCloseTo(p, 15);
  });

  it('equals the BigInt binomial sum for every split of b + c = 40, and random splits up to 1000', () => {
    for (let b = 0; b <= 40; b++) {
      const exact = exactMcnemar(b, 40 - b);
      expect(Math.abs(mcnemarExact(b, 40 - b) - exact) / exact).toBeLessThan(1e-13);
    }
    const rand = mulberry32(6);
    for (let t = 0; t < 100; t++) {
      const n = 1 + Math.floor(rand() * 1000);
      const b = Math.floor(rand() * (n + 1));
      const exact = exactMcnemar(b, n - b);
      expect(Math.abs(mcnemarExact(b, n - b) - exact) / exact).toBeLessThan(1e-13);
    }
  });

  it('stays accurate for large counts (b + c = 4100 and 50,000) without overflow', () => {
    const p = mcnemarExact(2000, 2100);
    expect(Number.isFinite(p)).toBe(true);
    expect(Math.abs(p - exactMcnemar(2000, 2100)) / exactMcnemar(2000, 2100)).toBeLessThan(1e-12);
    // close to the continuity-corrected normal approximation: z = (100 − 1)/√4100 ≈ 1.546, p ≈ 0.122
    expect(p).toBeGreaterThan(0.11);
    expect(p).toBeLessThan(0.13);
    const big = exactMcnemar(24500, 25500);
    expect(Math.abs(mcnemarExact(24500, 25500) - big) / big).toBeLessThan(1e-11);
    expect(mcnemarExact(25000, 25000)).toBe(1);
    // 2 · 2^-49999 underflows: 0 is the nearest double, not NaN
    expect(mcnemarExact(0, 50000)).toBe(0);
    expect(mcnemarExact(1000, 49000)).toBe(0);
  });

  it('is symmetric and falls as the split gets more lopsided', () => {
    let prev = 1;
    for (let b = 500; b >= 0; b -= 25) {
      const p = mcnemarExact(b, 1000 - b);
      expect(p).toBe(mcnemarExact(1000 - b, b));
      expect(p).toBeLessThanOrEqual(prev);
      prev = p;
    }
  });

  it('rejects negative or fractional counts', () => {
    expect(() => mcnemarExact(-1, 3)).toThrow(/b must be a non-negative integer/);
    expect(() => mcnemarExact(1, 2.5)).toThrow(/c must be a non-negative integer/);
  });
});

describe('discordantCounts / changedFraction', () => {
  it('counts by hand', () => {
    // A right B wrong: sample 1 → b = 1; A wrong B right: samples 2, 3 → c = 2
    expect(discordantCounts(Uint8Array.from([1, 1, 0, 0, 0]), Uint8Array.from([1, 0, 1, 1, 0]))).toEqual({ b: 1, c: 2 });
    expect(changedFraction([1, 2, 3, 4], [1, 2, 0, 4])).toBe(0.25);
    expect(() => discordantCounts(Uint8Array.from([1]), Uint8Array.from([2]))).toThrow(/not 0\/1/);
  });
});

// ---------------------------------------------------------------- bootstrap

describe('pairedBootstrap', () => {
  const rand = mulberry32(42);
  const [a, b] = pairedOutcomes(rand, 2000, 0.7, 0.03, 0.05);

  it('is deterministic for a seed, and the seed matters', () => {
    const r1 = pairedBootstrap(a, b, { seed: 7, iterations: 2000 });
    expect(pairedBootstrap(a, b, { seed: 7, iterations: 2000 })).toEqual(r1);
    expect(pairedBootstrap(a, b, { seed: 8, iterations: 2000 })).not.toEqual(r1);
  });

  it('reports the observed difference B − A and an interval around it', () => {
    const r = pairedBootstrap(a, b, { seed: 1 });
    const accA = a.reduce((s, x) => s + x, 0) / a.length;
    const accB = b.reduce((s, x) => s + x, 0) / b.length;
    expect(r.diff).toBeCloseTo(accB - accA, 15);
    expect(r.low).toBeLessThan(r.diff);
    expect(r.high).toBeGreaterThan(r.diff);
  });

  it('contains the observed difference on many random pairs', () => {
    const rr = mulberry32(3);
    for (let t = 0; t < 40; t++) {
      const n = 100 + Math.floor(rr() * 900);
      const [x, y] = pairedOutcomes(rr, n, 0.6, 0.02 + 0.1 * rr(), 0.02 + 0.1 * rr());
      const r = pairedBootstrap(x, y, { seed: t, iterations: 1000 });
      expect(r.low).toBeLessThanOrEqual(r.diff);
      expect(r.high).toBeGreaterThanOrEqual(r.diff);
    }
  });

  it('has the distribution of the textbook index-resampling bootstrap', () => {
    const iterations = 20000;
    const fast = pairedBootstrapSamples(a, b, { seed: 11, iterations });
    const slow = naiveBootstrap(a, b, iterations, 12);
    const { b: nb, c: nc } = discordantCounts(a, b);
    const n = a.length;
    // Var of a resampled mean of d ∈ {−1, 0, 1}: (E[d²] − E[d]²)/n
    const sd = Math.sqrt(((nb + nc) / n - ((nc - nb) / n) ** 2) / n);
    const mean = fast.reduce((s, x) => s + x, 0) / iterations;
    const sdFast = Math.sqrt(fast.reduce((s, x) => s + (x - mean) ** 2, 0) / (iterations - 1));
    expect(Math.abs(mean - (nc - nb) / n)).toBeLessThan(0.05 * sd);
    expect(sdFast / sd).toBeGreaterThan(0.97);
    expect(sdFast / sd).toBeLessThan(1.03);
    for (const q of [0.025, 0.5, 0.975]) expect(Math.abs(quantile(fast, q)! - quantile(slow, q)!)).toBeLessThan(0.1 * sd);
  });

  it('draws the number of discordant picks from the exact binomial', () => {
    // one B-only sample among 10: each resampled difference is K/10 with K ~ Bin(10, 1/10)
    const a = new Uint8Array(10);
    const b = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const iterations = 40000;
    const draws = pairedBootstrapSamples(a, b, { seed: 4, iterations });
    const freq = new Array<number>(11).fill(0);
    for (const x of draws) freq[Math.round(x * 10)]++;
    let binom = 1;
    for (let k = 0; k <= 4; k++) {
      const pmf = binom * 0.1 ** k * 0.9 ** (10 - k);
      const se = Math.sqrt((pmf * (1 - pmf)) / iterations);
      expect(Math.abs(freq[k] / iterations - pmf)).toBeLessThan(5 * se + 1e-4);
      binom = (binom * (10 - k)) / (k + 1);
    }
  });

  it('narrows as n grows', () => {
    const rr = mulberry32(5);
    const width = (n: number) => {
      const [x, y] = pairedOutcomes(rr, n, 0.7, 0.03, 0.05);
      const r = pairedBootstrap(x, y, { seed: 2, iterations: 2000 });
      return r.high - r.low;
    };
    const w500 = width(500);
    const w8000 = width(8000);
    // width ∝ 1/√n: 16× the samples → about a quarter of the width
    expect(w8000).toBeLessThan(w500 / 2.5);
    expect(w8000).toBeGreaterThan(w500 / 6);
  });

  it('is exactly [0, 0] when A and B agree everywhere', () => {
    const [x] = pairedOutcomes(mulberry32(9), 500, 0.7, 0.3, 0);
    expect(pairedBootstrap(x, Uint8Array.from(x), { seed: 1 })).toEqual({ diff: 0, low: 0, high: 0 });
  });

  it('rejects mismatched or empty inputs and bad options', () => {
    expect(() => pairedBootstrap(new Uint8Array(3), new Uint8Array(4), { seed: 1 })).toThrow(/3 samples for A but 4/);
    expect(() => pairedBootstrap(new Uint8Array(0), new Uint8Array(0), { seed: 1 })).toThrow(/no samples/);
    expect(() => pairedBootstrap(a, b, { seed: 1, confidence: 95 })).toThrow(/confidence/);
    expect(() => pairedBootstrap(a, b, { seed: 1, iterations: 0 })).toThrow(/iterations/);
  });
});

// ---------------------------------------------------------------- calibration

describe('expectedCalibrationError', () => {
  it('is 0 when every prediction is right with confidence 1', () => {
    // margin 10 at scale 100: the other class gets e^-1000 = 0 in float64
    const r = expectedCalibrationError(Float32Array.from([10, 0, 0, 10, 10, 0]), [0, 1, 0]);
    expect(r.ece).toBe(0);
    expect(r.bins).toHaveLength(15);
    expect(r.bins[14]).toMatchObject({ lo: 14 / 15, hi: 1, count: 3, accuracy: 1, confidence: 1 });
    expect(r.bins[0].count).toBe(0);
    expect(r.bins[0].accuracy).toBeNaN();
  });

  it('worked by hand: two bins', () => {
    // scale 1. Rows [0, ln 3] → softmax [1/4, 3/4], predicted class 1, confidence 0.75, bin (11/15, 12/15];
    // one labelled 1 (right), one labelled 0 (wrong) → accuracy 0.5, gap 0.25.
    // Rows [ln 9, 0] → [9/10, 1/10], confidence 0.9, bin (13/15, 14/15]; both right → gap 0.1.
    // ECE = 2/4 · 0.25 + 2/4 · 0.1 = 0.175
    const logits = Float32Array.from([0, Math.log(3), 0, Math.log(3), Math.log(9), 0, Math.log(9), 0]);
    const r = expectedCalibrationError(logits, [1, 0, 0, 0], { scale: 1 });
    expect(r.ece).toBeCloseTo(0.175, 6);
    expect(r.bins.filter((x) => x.count > 0).map((x) => [x.lo, x.count, x.accuracy])).toEqual([
      [11 / 15, 2, 0.5],
      [13 / 15, 2, 1],
    ]);
    expect(r.bins[11].confidence).toBeCloseTo(0.75, 6);
    expect(r.bins[13].confidence).toBeCloseTo(0.9, 6);
  });

  it('puts a confidence on a bin edge in the lower bin, (lo, hi]', () => {
    // two equal logits: confidence exactly 1/2, the top of bin (0.4, 0.5] with 10 bins
    const r = expectedCalibrationError(Float32Array.from([1, 1]), [0], { bins: 10 });
    expect(r.bins[4].count).toBe(1);
    expect(r.ece).toBe(0.5);
  });

  it('bins confidences next to every edge k/B as a scan over (k/B, (k+1)/B] does', () => {
    const bits = new Float64Array(1);
    const word = new BigInt64Array(bits.buffer);
    const ulps = (x: number, d: number) => ((bits[0] = x), (word[0] += BigInt(d)), bits[0]);
    for (let B = 1; B <= 40; B++) {
      for (let k = 0; k <= B; k++) {
        for (let d = -2; d <= 2; d++) {
          const x = ulps(k / B, d);
          if (!(x > 0 && x <= 1)) continue;
          let scan = -1;
          for (let j = 0; j < B; j++) if (x > j / B && x <= (j + 1) / B) scan = j;
          expect(confidenceBin(x, B)).toBe(scan);
        }
      }
    }
    // one ulp above 1/3 belongs to the second of three bins, though ceil(x·3) − 1 says the first
    expect(confidenceBin(0.33333333333333337, 3)).toBe(1);
  });

  it('matches a direct computation on 300 random small cases', () => {
    const rand = mulberry32(17);
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(rand() * 30);
      const C = 2 + Math.floor(rand() * 6);
      const scale = [1, 5, 20][t % 3];
      const bins = [15, 10, 4][t % 3];
      const logits = Float32Array.from({ length: n * C }, () => rand() * 2 - 1);
      const labels = Array.from({ length: n }, () => Math.floor(rand() * C));
      const r = expectedCalibrationError(logits, labels, { scale, bins });
      expect(r.ece).toBeCloseTo(oracleEce(logits, labels, scale, bins), 12);
      expect(r.bins.reduce((s, x) => s + x.count, 0)).toBe(n);
    }
  });
});

// ---------------------------------------------------------------- formatting

describe('formatting', () => {
  it.each([
    [-0.0042, -0.0063, -0.0021, 'points', '-0.42 points [-0.63, -0.21]'],
    [0.0042, 0.0021, 0.0063, 'points', '0.42 points [0.21, 0.63]'],
    [0, 0, 0, 'points', '0.00 points [0.00, 0.00]'],
    [-0.00001, -0.00002, 0.00001, 'points', '0.00 points [0.00, 0.00]'], // no "-0.00"
    [0.125, 0.1, 0.15, 'points', '12.50 points [10.00, 15.00]'],
    [-0.0042, -0.0063, -0.0021, 'fraction', '-0.0042 [-0.0063, -0.0021]'],
  ] as const)('formatInterval(%f, %f, %f, %s) → %s', (d, lo, hi, unit, text) => {
    expect(formatInterval(d, lo, hi, unit)).toBe(text);
  });

  it.each([
    [0.0003, 'p = 0.0003'],
    [0.0625, 'p = 0.063'],
    [0.05, 'p = 0.05'],
    [0.5, 'p = 0.5'],
    [1, 'p = 1'],
    [0.00012345, 'p = 0.00012'],
    [3.2e-7, 'p = 3.2e-7'],
    [5e-5, 'p = 5e-5'],
    [1e-10, 'p = 1e-10'],
    [9e-11, 'p < 1e-10'],
    [0, 'p < 1e-10'],
  ])('formatPValue(%f) → %s', (p, text) => {
    expect(formatPValue(p)).toBe(text);
  });

  it('rejects p outside [0, 1]', () => {
    expect(() => formatPValue(NaN)).toThrow(/\[0, 1\]/);
    expect(() => formatPValue(1.5)).toThrow(/\[0, 1\]/);
  });

  it.each<[Comparison, string]>([
    [{ diff: -0.0042, low: -0.0063, high: -0.0021, p: 0.0003, changed: 0.019 }, 'int8 loses 0.42 points [0.21, 0.63], p = 0.0003; 1.9% of predictions change'],
    [{ diff: 0.0042, low: 0.0021, high: 0.0063, p: 0.0003, changed: 0.019 }, 'int8 gains 0.42 points [0.21, 0.63], p = 0.0003; 1.9% of predictions change'],
    [{ diff: -0.0005, low: -0.0015, high: 0.0005, p: 0.41, changed: 0.008 }, 'int8 matches fp32: -0.05 points [-0.15, 0.05], p = 0.41; 0.8% of predictions change'],
    [{ diff: 0, low: 0, high: 0, p: 1, changed: 0 }, 'int8 matches fp32: 0.00 points [0.00, 0.00], p = 1; no predictions change'],
    [{ diff: 0.0001, low: -0.0001, high: 0.0003, p: 0.5, changed: 0.0004 }, 'int8 matches fp32: 0.01 points [-0.01, 0.03], p = 0.5; <0.1% of predictions change'],
    [{ baseline: 'ViT-B/32', candidate: 'ViT-B/16', diff: 0.031, low: 0.025, high: 0.037, p: 1e-30 }, 'ViT-B/16 gains 3.10 points [2.50, 3.70], p < 1e-10'],
  ])('describeComparison %#', (cmp, text) => {
    expect(describeComparison(cmp)).toBe(text);
  });
});
