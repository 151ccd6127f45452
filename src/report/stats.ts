/**
 * Statistics for comparing two checkpoints on the same samples (e.g. fp32 vs int8): a paired bootstrap
 * interval on the accuracy difference, McNemar's exact test, expected calibration error, and the strings
 * a report prints. Pure functions; accuracies and differences are fractions (0.0042 = 0.42 points).
 */
import { quantile } from 'd3-array';
import { mulberry32 } from '../fixtures/random.js';
import { sigmoid, type ScoringLink } from '../models/scoring-link.js';

function checkCorrect(fn: string, a: Uint8Array, b: Uint8Array): void {
  if (a.length !== b.length) throw new RangeError(`${fn}: ${a.length} samples for A but ${b.length} for B`);
  if (a.length === 0) throw new RangeError(`${fn}: no samples`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] > 1 || b[i] > 1) throw new RangeError(`${fn}: sample ${i} is not 0/1 (A ${a[i]}, B ${b[i]})`);
  }
}

// ---------------------------------------------------------------- paired comparison

/**
 * Discordant pairs for McNemar: b = A right and B wrong, c = A wrong and B right.
 * @param correctA `[n]` 0/1 per sample for the baseline
 * @param correctB `[n]` 0/1 per sample for the candidate, same samples in the same order
 * @example discordantCounts(Uint8Array.from([1, 1, 0, 0]), Uint8Array.from([1, 0, 1, 1])) // → { b: 1, c: 2 }
 */
export function discordantCounts(correctA: Uint8Array, correctB: Uint8Array): { b: number; c: number } {
  checkCorrect('discordantCounts', correctA, correctB);
  let b = 0;
  let c = 0;
  for (let i = 0; i < correctA.length; i++) {
    if (correctA[i] > correctB[i]) b++;
    else if (correctA[i] < correctB[i]) c++;
  }
  return { b, c };
}

/**
 * Fraction of samples whose predicted class differs between two runs (whether or not either is right).
 * @example changedFraction([1, 2, 3, 4], [1, 2, 0, 4]) // → 0.25
 */
export function changedFraction(predA: ArrayLike<number>, predB: ArrayLike<number>): number {
  if (predA.length !== predB.length) throw new RangeError(`changedFraction: ${predA.length} predictions for A but ${predB.length} for B`);
  if (predA.length === 0) throw new RangeError('changedFraction: no samples');
  let changed = 0;
  for (let i = 0; i < predA.length; i++) if (predA[i] !== predB[i]) changed++;
  return changed / predA.length;
}

export interface BootstrapOptions {
  /** seed for {@link mulberry32}; the same seed and inputs give the same draws */
  seed: number;
  /** resamples (default 10000) */
  iterations?: number;
  /** two-sided coverage of the percentile interval (default 0.95) */
  confidence?: number;
}

export interface Interval {
  /** observed accuracy(B) − accuracy(A), a fraction */
  diff: number;
  low: number;
  high: number;
}

/**
 * Sampler of Binomial(n, q) that inverts a table of its CDF, built once, so each draw is one uniform and
 * a binary search. The table is the pmf relative to its mode, by the ratio recurrence, cut where a term
 * falls below 1e-18 of the mode (far below what a 53-bit uniform can hit).
 */
function binomialSampler(n: number, q: number, rand: () => number): () => number {
  if (q >= 1) return () => n;
  const odds = q / (1 - q);
  const mode = Math.min(n, Math.floor((n + 1) * q));
  const left: number[] = [];
  for (let k = mode, p = 1; k > 0; k--) {
    p *= k / ((n - k + 1) * odds); // pmf(k − 1) / pmf(k)
    if (p < 1e-18) break;
    left.push(p);
  }
  const right: number[] = [];
  for (let k = mode, p = 1; k < n; k++) {
    p *= ((n - k) / (k + 1)) * odds; // pmf(k + 1) / pmf(k)
    if (p < 1e-18) break;
    right.push(p);
  }
  const lo = mode - left.length;
  const weights = [...left.reverse(), 1, ...right];
  const cdf = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((w, i) => (cdf[i] = total += w));
  return () => {
    const u = rand() * total;
    let a = 0;
    let b = cdf.length - 1;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (cdf[mid] > u) b = mid;
      else a = mid + 1;
    }
    return lo + a;
  };
}

/**
 * The bootstrap distribution of accuracy(B) − accuracy(A): `iterations` resamples of the n paired samples
 * with replacement. Samples where A and B agree add 0 to a resample, so instead of n index draws each
 * resample draws how many of its n picks are discordant, K ~ Bin(n, (b + c)/n), then which of those K are
 * B-wins (each with probability c/(b + c)) — the same distribution, at a cost of about b + c draws per
 * resample rather than n.
 * @param correctA `[n]` 0/1 per sample for the baseline
 * @param correctB `[n]` 0/1 per sample for the candidate, same samples in the same order
 * @returns `[iterations]` resampled differences, in draw order
 * @example Array.from(pairedBootstrapSamples(Uint8Array.from([1, 0]), Uint8Array.from([1, 0]), { seed: 1, iterations: 3 })) // → [0, 0, 0]
 */
export function pairedBootstrapSamples(correctA: Uint8Array, correctB: Uint8Array, opts: Omit<BootstrapOptions, 'confidence'>): Float64Array {
  const { seed, iterations = 10000 } = opts;
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`pairedBootstrap: iterations must be a positive integer, got ${iterations}`);
  const { b, c } = discordantCounts(correctA, correctB);
  const n = correctA.length;
  const diffs = new Float64Array(iterations);
  if (b + c === 0) return diffs;
  const rand = mulberry32(seed);
  const discordant = binomialSampler(n, (b + c) / n, rand);
  const pWin = c / (b + c);
  for (let it = 0; it < iterations; it++) {
    const k = discordant();
    let s = 0;
    for (let j = 0; j < k; j++) s += rand() < pWin ? 1 : -1;
    diffs[it] = s / n;
  }
  return diffs;
}

/**
 * Paired percentile bootstrap of accuracy(B) − accuracy(A): resample the n samples with replacement
 * (both models' outcomes move together, which is what makes it paired; see {@link pairedBootstrapSamples}),
 * and take the (1 − confidence)/2 and (1 + confidence)/2 quantiles of the resampled differences (d3's
 * R-7 linear interpolation). When A and B agree on every sample the interval is exactly [0, 0].
 * @param correctA `[n]` 0/1 per sample for the baseline
 * @param correctB `[n]` 0/1 per sample for the candidate, same samples in the same order
 * @example pairedBootstrap(Uint8Array.from([1, 0, 1, 1]), Uint8Array.from([1, 0, 1, 1]), { seed: 1 }) // → { diff: 0, low: 0, high: 0 }
 */
export function pairedBootstrap(correctA: Uint8Array, correctB: Uint8Array, opts: BootstrapOptions): Interval {
  const { confidence = 0.95 } = opts;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`pairedBootstrap: confidence must be in (0, 1), got ${confidence}`);
  const diffs = pairedBootstrapSamples(correctA, correctB, opts);
  const { b, c } = discordantCounts(correctA, correctB);
  const alpha = (1 - confidence) / 2;
  return { diff: (c - b) / correctA.length, low: quantile(diffs, alpha)!, high: quantile(diffs, 1 - alpha)! };
}

/**
 * Cluster paired bootstrap of accuracy(B) − accuracy(A) for samples that come in dependent groups (the
 * captions of one image, which tend to be hit or missed together): each resample draws G whole groups
 * with replacement from the G groups and takes Σ(B − A) / Σ(samples) over them. Percentile interval as
 * {@link pairedBootstrap}; with one sample per group it is the ordinary paired bootstrap (drawing samples).
 * Treating dependent samples as independent makes the interval too narrow; this one is not.
 * @param group `[n]` a group id per sample (any integers; groups are the distinct ids)
 * @example clusteredPairedBootstrap(Uint8Array.from([1, 1, 0]), Uint8Array.from([1, 1, 0]), [0, 0, 1], { seed: 1 }) // → { diff: 0, low: 0, high: 0 }
 */
export function clusteredPairedBootstrap(correctA: Uint8Array, correctB: Uint8Array, group: ArrayLike<number>, opts: BootstrapOptions): Interval {
  const { seed, iterations = 10000, confidence = 0.95 } = opts;
  checkCorrect('clusteredPairedBootstrap', correctA, correctB);
  if (group.length !== correctA.length) throw new RangeError(`clusteredPairedBootstrap: ${group.length} group ids for ${correctA.length} samples`);
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`clusteredPairedBootstrap: iterations must be a positive integer, got ${iterations}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`clusteredPairedBootstrap: confidence must be in (0, 1), got ${confidence}`);
  const dense = new Map<number, number>();
  const delta: number[] = [];
  const size: number[] = [];
  let total = 0;
  for (let i = 0; i < group.length; i++) {
    let g = dense.get(group[i]);
    if (g === undefined) {
      g = delta.length;
      dense.set(group[i], g);
      delta.push(0);
      size.push(0);
    }
    delta[g] += correctB[i] - correctA[i];
    size[g]++;
    total += correctB[i] - correctA[i];
  }
  const G = delta.length;
  const diffs = new Float64Array(iterations);
  if (delta.some((d) => d !== 0)) {
    const rand = mulberry32(seed);
    for (let it = 0; it < iterations; it++) {
      let s = 0;
      let m = 0;
      for (let j = 0; j < G; j++) {
        const g = Math.floor(rand() * G);
        s += delta[g];
        m += size[g];
      }
      diffs[it] = s / m;
    }
  }
  const alpha = (1 - confidence) / 2;
  return { diff: total / correctA.length, low: quantile(diffs, alpha)!, high: quantile(diffs, 1 - alpha)! };
}

/**
 * Two-sided exact McNemar test: a binomial test of the discordant pairs, p = min(1, 2·P[X ≤ min(b, c)])
 * with X ~ Bin(b + c, 1/2). The largest tail term C(n, m)/2^n is built as a product of ratios ≥ 1 with
 * its power of two kept apart as an integer exponent (so nothing overflows or underflows on the way), then
 * multiplied by the backward sum of term ratios k/(n − k + 1). Relative error ~1e-13 for b + c in the tens
 * of thousands; the result underflows to 0 only where the true p is below ~5e-324.
 * @param b samples A got right and B wrong
 * @param c samples A got wrong and B right
 * @example mcnemarExact(0, 5) // → 0.0625 = 2 · (1/2)^5
 */
export function mcnemarExact(b: number, c: number): number {
  for (const [name, v] of [['b', b], ['c', c]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`mcnemarExact: ${name} must be a non-negative integer, got ${v}`);
  }
  const n = b + c;
  const m = Math.min(b, c);
  // b = c (including n = 0): P[X ≤ n/2] ≥ 1/2, so the doubled tail is at least 1.
  if (2 * m >= n) return 1;
  // C(n, m) = Π_{i=1..m} (n − m + i)/i, every factor ≥ 1; value = mant · 2^exp with exact power-of-two rescaling.
  let mant = 2; // the two-sided doubling
  let exp = -n;
  for (let i = 1; i <= m; i++) {
    mant *= (n - m + i) / i;
    if (mant > 2 ** 500) {
      mant *= 2 ** -500;
      exp += 500;
    }
  }
  // Terms grow with k up to n/2, so summing down from k = m adds ever smaller ratios; stop once negligible.
  let ratio = 1;
  let tail = 1;
  for (let k = m; k > 0; k--) {
    ratio *= k / (n - k + 1);
    tail += ratio;
    if (ratio < tail * 1e-17) break;
  }
  let p = mant * tail;
  // Apply 2^exp (exp ≤ 0) in steps that keep p normal until the last one, so only that step can round.
  while (exp < 0 && p > 0) {
    const step = Math.max(exp, -1000);
    p *= 2 ** step;
    exp -= step;
  }
  return Math.min(1, p);
}

// ---------------------------------------------------------------- calibration

export interface CalibrationBin {
  /** the bin holds confidences in (lo, hi] */
  lo: number;
  hi: number;
  count: number;
  /** top-1 accuracy of the bin's samples; NaN when count is 0 */
  accuracy: number;
  /** mean top-1 softmax probability of the bin's samples; NaN when count is 0 */
  confidence: number;
}

export interface CalibrationOptions {
  /** logit scale applied before the softmax (default 100, CLIP's learned temperature at its cap) */
  scale?: number;
  /**
   * The checkpoint's scoring link (`scoring-link.ts`), which replaces `scale`: softmax(link.scale · logits),
   * or for a sigmoid link the top-1 class's own probability sigmoid(link.scale · logit + link.bias).
   */
  link?: Pick<ScoringLink, 'link' | 'scale' | 'bias'>;
  /** number of equal-width confidence bins on [0, 1] (default 15, as in Guo et al. 2017) */
  bins?: number;
}

/**
 * Index of the equal-width bin (k/bins, (k+1)/bins] holding a confidence in (0, 1]; 0 (and below) goes to
 * the first bin. The edges are the doubles k/bins, compared directly: ceil(confidence · bins) alone is one
 * off for some confidences next to an edge, e.g. 0.33333333333333337 with 3 bins.
 * @example confidenceBin(0.5, 10) // → 4, the bin (0.4, 0.5]
 */
export function confidenceBin(confidence: number, bins: number): number {
  let bin = Math.min(bins - 1, Math.max(0, Math.ceil(confidence * bins) - 1));
  while (bin > 0 && confidence <= bin / bins) bin--;
  while (bin < bins - 1 && confidence > (bin + 1) / bins) bin++;
  return bin;
}

/**
 * Expected calibration error (Guo et al. 2017): ECE = Σ_bins (count/n)·|accuracy − confidence|, where
 * confidence is the top-1 probability of softmax(scale · logits) and bins are equal-width in confidence,
 * (i/B, (i+1)/B], open on the left as in the paper's reference code. The top-1 class is the argmax with
 * ties to the lower index and NaN logits skipped, as in `topK`.
 * @param logits `[n, C]` row-major, C = logits.length / labels.length
 * @param labels `[n]` in [0, C)
 * @example expectedCalibrationError(Float32Array.from([10, 0, 0, 10]), [0, 1]).ece // → 0 (confidence 1, both right)
 */
export function expectedCalibrationError(
  logits: Float32Array,
  labels: Int32Array | readonly number[],
  opts: CalibrationOptions = {},
): { ece: number; bins: CalibrationBin[] } {
  const { bins: nBins = 15 } = opts;
  const scale = opts.link?.scale ?? opts.scale ?? 100;
  const sigmoidLink = opts.link?.link === 'sigmoid';
  const n = labels.length;
  if (n === 0 || logits.length % n !== 0 || logits.length === 0) throw new RangeError(`expectedCalibrationError: ${logits.length} logits do not make ${n} rows`);
  if (!Number.isInteger(nBins) || nBins < 1) throw new RangeError(`expectedCalibrationError: bins must be a positive integer, got ${nBins}`);
  if (!(scale > 0 && Number.isFinite(scale))) throw new RangeError(`expectedCalibrationError: scale must be positive, got ${scale}`);
  const C = logits.length / n;
  const count = new Float64Array(nBins);
  const correct = new Float64Array(nBins);
  const confSum = new Float64Array(nBins);
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * C, (i + 1) * C);
    let best = -1;
    for (let j = 0; j < C; j++) if (!Number.isNaN(row[j]) && (best < 0 || row[j] > row[best])) best = j;
    if (best < 0) throw new RangeError(`expectedCalibrationError: row ${i} has no logit that is a number`);
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= C) throw new RangeError(`expectedCalibrationError: label ${y} of sample ${i} is outside [0, ${C})`);
    // max softmax probability = 1 / Σ exp(scale·(x − max)); shifting by the max keeps exp finite.
    let z = 0;
    if (!sigmoidLink) for (let j = 0; j < C; j++) if (!Number.isNaN(row[j])) z += Math.exp(scale * (row[j] - row[best]));
    const conf = sigmoidLink ? sigmoid(scale * row[best] + opts.link!.bias) : 1 / z;
    const bin = confidenceBin(conf, nBins);
    count[bin]++;
    confSum[bin] += conf;
    if (best === y) correct[bin]++;
  }
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (let k = 0; k < nBins; k++) {
    ece += Math.abs(correct[k] - confSum[k]) / n;
    out.push({ lo: k / nBins, hi: (k + 1) / nBins, count: count[k], accuracy: correct[k] / count[k], confidence: confSum[k] / count[k] });
  }
  return { ece, bins: out };
}

// ---------------------------------------------------------------- formatting

export type IntervalUnit = 'points' | 'fraction';

/** Fixed decimals without a "-0.00". */
function fixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

function formatValue(x: number, unit: IntervalUnit): string {
  return unit === 'points' ? fixed(100 * x, 2) : fixed(x, 4);
}

/**
 * An estimate with its interval. Inputs are fractions (as {@link pairedBootstrap} returns them);
 * `points` shows percentage points with 2 decimals, `fraction` shows the raw value with 4.
 * @example formatInterval(-0.0042, -0.0063, -0.0021) // → '-0.42 points [-0.63, -0.21]'
 */
export function formatInterval(diff: number, low: number, high: number, unit: IntervalUnit = 'points'): string {
  const tail = unit === 'points' ? ' points' : '';
  return `${formatValue(diff, unit)}${tail} [${formatValue(low, unit)}, ${formatValue(high, unit)}]`;
}

/**
 * A p-value with two significant digits: fixed notation down to 1e-4, then `3.2e-7`, and `p < 1e-10`
 * below that (the float tail there says more about rounding than about the models).
 * @example formatPValue(0.0003) // → 'p = 0.0003'
 * @example formatPValue(3e-12) // → 'p < 1e-10'
 */
export function formatPValue(p: number): string {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`formatPValue: p must be in [0, 1], got ${p}`);
  if (p < 1e-10) return 'p < 1e-10';
  if (p < 1e-4) return `p = ${p.toExponential(1).replace('.0e', 'e')}`;
  // toPrecision keeps trailing zeros ("0.00030"); the number round-trip drops them.
  return `p = ${String(Number(p.toPrecision(2)))}`;
}

export interface Comparison {
  /** the reference run, A (default 'fp32') */
  baseline?: string;
  /** the run compared to it, B (default 'int8') */
  candidate?: string;
  /** accuracy(B) − accuracy(A) and its interval, fractions (from {@link pairedBootstrap}) */
  diff: number;
  low: number;
  high: number;
  /** McNemar p-value (from {@link mcnemarExact}) */
  p: number;
  /** fraction of samples whose top-1 prediction differs (from {@link changedFraction}); omitted → no clause */
  changed?: number;
  /** what the difference is of, where it is not plain accuracy: "text→image R@1" → "loses 0.42 points of text→image R@1 [0.21, 0.63]" */
  measure?: string;
}

/**
 * One sentence for a report. The verb follows the interval: "gains" when it lies above 0, "loses" when
 * below (then shown as positive magnitudes), "matches" when it covers 0 — so a significant-looking point
 * estimate with an interval through 0 still reads as a match.
 * @example describeComparison({ diff: -0.0042, low: -0.0063, high: -0.0021, p: 0.0003, changed: 0.019 })
 * // → 'int8 loses 0.42 points [0.21, 0.63], p = 0.0003; 1.9% of predictions change'
 */
export function describeComparison(cmp: Comparison): string {
  const { baseline = 'fp32', candidate = 'int8', diff, low, high, p, changed, measure } = cmp;
  // "0.42 points of text→image R@1 [0.21, 0.63]": the measure goes between the estimate and its interval
  const of = (x: number, l: number, h: number) => (measure ? formatInterval(x, l, h).replace(/ points \[/, () => ` points of ${measure} [`) : formatInterval(x, l, h));
  let head: string;
  if (low > 0) head = `${candidate} gains ${of(diff, low, high)}`;
  else if (high < 0) head = `${candidate} loses ${of(-diff, -high, -low)}`;
  else head = `${candidate} matches ${baseline}${measure ? ` on ${measure}` : ''}: ${formatInterval(diff, low, high)}`;
  let tail = '';
  if (changed !== undefined) {
    if (!(changed >= 0 && changed <= 1)) throw new RangeError(`describeComparison: changed must be a fraction in [0, 1], got ${changed}`);
    const pct = fixed(100 * changed, 1);
    tail = changed === 0 ? '; no predictions change' : pct === '0.0' ? '; <0.1% of predictions change' : `; ${pct}% of predictions change`;
  }
  return `${head}, ${formatPValue(p)}${tail}`;
}
