/**
 * The per-dataset metrics of the CLIP paper (Radford et al. 2021, dataset table of appendix A): top-k accuracy,
 * mean per-class recall, VOC2007 11-point mAP, binary ROC AUC and mean(top-1, top-5). Pure functions over
 * typed arrays; each metric also has a per-sample or per-class ingredient so a caller can recompute it
 * from stored predictions.
 *
 * Shapes: `logits` / `scores` are row-major `[n, C]`; `labels` has length n with values in [0, C).
 * An empty input (n = 0) throws: the number of classes cannot be inferred and the mean is undefined.
 */
import { topK } from './metrics.js';

/** Classes per row of a row-major `[n, C]` matrix of `length` values; throws on a ragged or empty shape. */
function classesPerRow(fn: string, length: number, n: number): number {
  if (n === 0) throw new RangeError(`${fn}: no samples`);
  if (length % n !== 0 || length === 0) throw new RangeError(`${fn}: ${length} values is not a whole number of rows for ${n} samples`);
  return length / n;
}

/** Rows of a row-major `[n, nClasses]` matrix of `length` values; throws on a ragged shape. */
function rowCount(fn: string, length: number, nClasses: number): number {
  if (!Number.isInteger(nClasses) || nClasses < 1) throw new RangeError(`${fn}: nClasses must be a positive integer, got ${nClasses}`);
  if (length % nClasses !== 0) throw new RangeError(`${fn}: ${length} values is not a whole number of rows of ${nClasses}`);
  return length / nClasses;
}

/** Descending comparison that is total on ±Infinity (a subtraction would give NaN for Infinity − Infinity). */
function descending(a: number, b: number): number {
  return a > b ? -1 : a < b ? 1 : 0;
}

function checkLabel(fn: string, label: number, nClasses: number, i: number): void {
  if (!Number.isInteger(label) || label < 0 || label >= nClasses) throw new RangeError(`${fn}: label ${label} of sample ${i} is outside [0, ${nClasses})`);
}

// ---------------------------------------------------------------- top-k

/**
 * Per-sample top-k hits: 1 where the label is among the k largest logits of its row. Ties go to the
 * lower class index and NaN logits are skipped, as in {@link topK}.
 * @param logits `[n, C]` row-major, C = logits.length / labels.length
 * @param labels `[n]`, each in [0, C)
 * @returns `[n]` of 0/1
 * @example Array.from(topKHits(Float32Array.from([0.1, 0.9, 0.5, 0.8, 0.2, 0.3]), [2, 0], 1)) // → [0, 1]
 */
export function topKHits(logits: Float32Array, labels: Int32Array | readonly number[], k: number): Uint8Array {
  const n = labels.length;
  const C = classesPerRow('topKHits', logits.length, n);
  const hits = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    checkLabel('topKHits', labels[i], C, i);
    hits[i] = topK(logits.subarray(i * C, (i + 1) * C), k).includes(labels[i]) ? 1 : 0;
  }
  return hits;
}

/**
 * Top-1 class of each row (the argmax; ties go to the lower index, NaN skipped, -1 for an all-NaN row).
 * @param logits `[n, C]` row-major
 * @returns `[n]` predicted class ids
 * @example Array.from(top1Predictions(Float32Array.from([0.1, 0.9, 0.9, 0.8, 0.2, 0.3]), 3)) // → [1, 0]
 */
export function top1Predictions(logits: Float32Array, nClasses: number): Int32Array {
  const n = rowCount('top1Predictions', logits.length, nClasses);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = topK(logits.subarray(i * nClasses, (i + 1) * nClasses), 1)[0] ?? -1;
  return out;
}

/**
 * Top-1 class of stored predictions (best-first class lists, as the predictions table keeps them);
 * a failed sample (null or empty list) becomes -1, which every metric here counts as wrong.
 * @example Array.from(top1FromPredictions([[3, 1], null, [0]])) // → [3, -1, 0]
 */
export function top1FromPredictions(predictions: readonly (readonly number[] | null)[]): Int32Array {
  return Int32Array.from(predictions, (p) => (p && p.length ? p[0] : -1));
}

/**
 * Top-k accuracy in [0, 1], or `null` (not applicable) when there are fewer than k classes: top-5 of a
 * two-class problem would be a trivial 100%, not a measurement.
 * @param logits `[n, C]` row-major, C = logits.length / labels.length
 * @example topKAccuracy(Float32Array.from([0.1, 0.9, 0.5, 0.8, 0.2, 0.3]), [2, 0], 1) // → 0.5
 * @example topKAccuracy(Float32Array.from([0.1, 0.9, 0.5, 0.8, 0.2, 0.3]), [2, 0], 5) // → null
 */
export function topKAccuracy(logits: Float32Array, labels: Int32Array | readonly number[], k: number): number | null {
  const C = classesPerRow('topKAccuracy', logits.length, labels.length);
  if (C < k) return null;
  const hits = topKHits(logits, labels, k);
  let sum = 0;
  for (let i = 0; i < hits.length; i++) sum += hits[i];
  return sum / hits.length;
}

/**
 * Mean of top-1 and top-5 accuracy (the paper's Kinetics-700 metric), or `null` when C < 5.
 * @example meanTop1Top5(Float32Array.from([6, 5, 4, 3, 2, 1]), [4]) // → 0.5 (top-1 0, top-5 1)
 */
export function meanTop1Top5(logits: Float32Array, labels: Int32Array | readonly number[]): number | null {
  const top1 = topKAccuracy(logits, labels, 1);
  const top5 = topKAccuracy(logits, labels, 5);
  return top1 === null || top5 === null ? null : (top1 + top5) / 2;
}

// ---------------------------------------------------------------- mean per-class recall

/**
 * Per-class tallies for recall: `count[c]` samples of class c, `correct[c]` of them predicted as c.
 * A prediction outside [0, C) (e.g. -1 for a failed sample) is simply wrong.
 * @param top1 `[n]` predicted class per sample
 * @param labels `[n]` true class per sample, each in [0, nClasses)
 * @example perClassCounts([0, 0, 1, 1], [0, 0, 0, 1], 3) // → { correct: Int32Array(3) [2, 1, 0], count: Int32Array(3) [3, 1, 0] }
 */
export function perClassCounts(top1: ArrayLike<number>, labels: ArrayLike<number>, nClasses: number): { correct: Int32Array; count: Int32Array } {
  if (top1.length !== labels.length) throw new RangeError(`perClassCounts: ${top1.length} predictions for ${labels.length} labels`);
  const correct = new Int32Array(nClasses);
  const count = new Int32Array(nClasses);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    checkLabel('perClassCounts', y, nClasses, i);
    count[y]++;
    if (top1[i] === y) correct[y]++;
  }
  return { correct, count };
}

/**
 * Mean per-class recall (balanced accuracy): the mean over classes of correct / count. Classes with no
 * samples are excluded from the mean — an absent class has no recall, and counting it as 0 or 1 would
 * move the metric with the split rather than the model. The paper's metric for FGVC-Aircraft, Oxford
 * Pets, Caltech-101 and Flowers-102.
 * @param top1 `[n]` predicted class per sample (-1 or any out-of-range id counts as wrong)
 * @param labels `[n]` true class per sample, each in [0, nClasses)
 * @example meanPerClassRecall([0, 0, 1, 1], [0, 0, 0, 1], 3) // → 0.8333… = (2/3 + 1/1) / 2; class 2 has no samples
 */
export function meanPerClassRecall(top1: ArrayLike<number>, labels: ArrayLike<number>, nClasses: number): number {
  if (labels.length === 0) throw new RangeError('meanPerClassRecall: no samples');
  const { correct, count } = perClassCounts(top1, labels, nClasses);
  let sum = 0;
  let present = 0;
  for (let c = 0; c < nClasses; c++) {
    if (count[c] === 0) continue;
    sum += correct[c] / count[c];
    present++;
  }
  return sum / present;
}

// ---------------------------------------------------------------- VOC2007 11-point mAP

/**
 * The recall thresholds of the VOC2007 devkit, `t = 0:0.1:1` as MATLAB's colon operator builds it:
 * k·0.1 for the first half, 1 − k·0.1 for the second, 0.5 in the middle. So the fourth threshold is
 * 0.30000000000000004, not 0.3 — a recall of exactly 3/10 does *not* reach it, in the devkit and here.
 * (Python ports using `np.arange(0, 1.1, 0.1)` differ at 0.3, 0.6 and 0.7.)
 */
export const VOC07_RECALL_THRESHOLDS: readonly number[] = Object.freeze([0, 0.1, 0.2, 3 * 0.1, 0.4, 0.5, 1 - 4 * 0.1, 1 - 3 * 0.1, 1 - 2 * 0.1, 1 - 0.1, 1]);

/** Target value VOC uses for "difficult" images: neither positive nor negative, left out of the ranking. */
export const VOC_DIFFICULT = 255;

/**
 * VOC2007 11-point interpolated average precision of one class, exactly as `VOCevalcls.m` computes it:
 * rank by descending score, cumulate TP/FP, then average over t in {@link VOC07_RECALL_THRESHOLDS} the
 * maximum precision among points with recall ≥ t (0 if none).
 *
 * Ties: the devkit ranks with MATLAB's stable `sort(-out)`, so among equal scores the sample with the
 * lower index comes first; the result can therefore depend on sample order when scores tie, and this
 * reproduces that. NaN scores rank last (MATLAB's sort puts NaN at the end). Difficult samples (255)
 * count as neither TP nor FP, which is the same as leaving them out. The only departure: the 11 precisions
 * are summed and divided once, where the devkit adds p/11 eleven times (last-bit differences; never above 1).
 * @param scores `[n]` one class's score per sample
 * @param targets `[n]` 1 present, 0 absent, 255 difficult
 * @returns AP in [0, 1], or `null` when the class has no positive sample (the devkit would give 0 from a 0/0 recall)
 * @example elevenPointAp([0.9, 0.8, 0.7], [1, 0, 1]) // → 0.8484… = (6·1 + 5·2/3) / 11
 */
export function elevenPointAp(scores: ArrayLike<number>, targets: ArrayLike<number>): number | null {
  if (scores.length !== targets.length) throw new RangeError(`elevenPointAp: ${scores.length} scores for ${targets.length} targets`);
  const order: number[] = [];
  let nPos = 0;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i];
    if (t === VOC_DIFFICULT) continue;
    if (t !== 0 && t !== 1) throw new RangeError(`elevenPointAp: target ${t} of sample ${i} is not 0, 1 or ${VOC_DIFFICULT}`);
    nPos += t;
    order.push(i);
  }
  if (nPos === 0) return null;
  // Array.prototype.sort is stable, so equal scores keep index order, like MATLAB's sort.
  order.sort((a, b) => {
    const sa = scores[a];
    const sb = scores[b];
    if (Number.isNaN(sa) || Number.isNaN(sb)) return Number(Number.isNaN(sa)) - Number(Number.isNaN(sb));
    return descending(sa, sb);
  });
  const m = order.length;
  const rec = new Float64Array(m);
  const prec = new Float64Array(m);
  let tp = 0;
  for (let j = 0; j < m; j++) {
    tp += targets[order[j]];
    rec[j] = tp / nPos;
    prec[j] = tp / (j + 1);
  }
  // Recall never decreases along the ranking, so {rec ≥ t} is a suffix and its max precision a suffix max.
  const suffixMax = new Float64Array(m + 1);
  for (let j = m - 1; j >= 0; j--) suffixMax[j] = Math.max(prec[j], suffixMax[j + 1]);
  // Sum, then divide once: the devkit adds p/11 eleven times, which differs only in the last bit (and can exceed 1).
  let sum = 0;
  let j = 0;
  for (const t of VOC07_RECALL_THRESHOLDS) {
    while (j < m && rec[j] < t) j++;
    sum += j < m ? suffixMax[j] : 0;
  }
  return sum / VOC07_RECALL_THRESHOLDS.length;
}

/**
 * 11-point AP of every class (column) of a multi-label score matrix; `null` for a class without positives.
 * @param scores `[n, nClasses]` row-major
 * @param targets `[n, nClasses]` row-major: 1 present, 0 absent, 255 difficult
 * @example perClassElevenPointAp(Float32Array.from([0.9, 0.1, 0.2, 0.8]), Uint8Array.from([1, 0, 0, 0]), 2) // → [1, null]
 */
export function perClassElevenPointAp(scores: Float32Array, targets: Uint8Array, nClasses: number): (number | null)[] {
  if (scores.length !== targets.length) throw new RangeError(`perClassElevenPointAp: ${scores.length} scores for ${targets.length} targets`);
  const n = rowCount('perClassElevenPointAp', scores.length, nClasses);
  const col = new Float32Array(n);
  const tcol = new Uint8Array(n);
  const aps: (number | null)[] = [];
  for (let c = 0; c < nClasses; c++) {
    for (let i = 0; i < n; i++) {
      col[i] = scores[i * nClasses + c];
      tcol[i] = targets[i * nClasses + c];
    }
    aps.push(elevenPointAp(col, tcol));
  }
  return aps;
}

/**
 * VOC2007 mean average precision: the mean of {@link elevenPointAp} over the classes that have at least
 * one positive (on VOC2007 test all 20 do). The paper's metric for Pascal VOC 2007 classification.
 * @param scores `[n, nClasses]` row-major
 * @param targets `[n, nClasses]` row-major: 1 present, 0 absent, 255 difficult (ignored)
 * @example elevenPointMap(Float32Array.from([0.9, 0.1, 0.8, 0.7, 0.7, 0.2]), Uint8Array.from([1, 0, 0, 1, 1, 0]), 2) // → 0.9242… = (28/33 + 1) / 2
 */
export function elevenPointMap(scores: Float32Array, targets: Uint8Array, nClasses: number): number {
  const aps = perClassElevenPointAp(scores, targets, nClasses).filter((ap): ap is number => ap !== null);
  if (aps.length === 0) throw new RangeError('elevenPointMap: no class has a positive sample');
  return aps.reduce((s, ap) => s + ap, 0) / aps.length;
}

// ---------------------------------------------------------------- ROC AUC

/**
 * Binary score from two-class logits: logit[positive] − logit[other]. Monotone in the softmax probability
 * of the positive class at any logit scale, without the saturation of a float32 softmax at scale 100.
 * @param logits `[n, 2]` row-major
 * @example Array.from(binaryScores(Float32Array.from([1, 3, 2, 0.5]))) // → [2, -1.5]
 */
export function binaryScores(logits: Float32Array, positiveClass: 0 | 1 = 1): Float64Array {
  if (logits.length % 2 !== 0) throw new RangeError(`binaryScores: ${logits.length} values is not [n, 2]`);
  const out = new Float64Array(logits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = logits[2 * i + positiveClass] - logits[2 * i + 1 - positiveClass];
  return out;
}

/**
 * Binary ROC AUC: the probability that a random positive scores above a random negative, ties counting
 * 1/2 (the Mann–Whitney U statistic / (P·N), equal to the trapezoidal area under the ROC curve). Exact
 * arithmetic on counts: the numerator is a sum of integers and halves. The paper's metric for Hateful Memes.
 * @param scores `[n]` higher = more positive; NaN throws
 * @param positives `[n]` of 0/1
 * @returns AUC in [0, 1], or `null` when there are no positives or no negatives
 * @example rocAuc([0.9, 0.4, 0.4, 0.1], [1, 1, 0, 0]) // → 0.875 = (1 + 1 + 0.5 + 1) / 4
 */
export function rocAuc(scores: ArrayLike<number>, positives: ArrayLike<number>): number | null {
  const n = scores.length;
  if (positives.length !== n) throw new RangeError(`rocAuc: ${n} scores for ${positives.length} targets`);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`rocAuc: score of sample ${i} is NaN`);
    if (positives[i] !== 0 && positives[i] !== 1) throw new RangeError(`rocAuc: target ${positives[i]} of sample ${i} is not 0 or 1`);
    order[i] = i;
  }
  order.sort((a, b) => descending(scores[b], scores[a]));
  // Walk tie groups upward: each positive beats every negative below its group and half-beats those in it.
  let negBelow = 0;
  let wins = 0;
  let nPos = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    let pos = 0;
    while (end < n && scores[order[end]] === scores[order[start]]) pos += positives[order[end++]];
    const neg = end - start - pos;
    wins += pos * negBelow + (pos * neg) / 2;
    negBelow += neg;
    nPos += pos;
    start = end;
  }
  const nNeg = n - nPos;
  return nPos === 0 || nNeg === 0 ? null : wins / (nPos * nNeg);
}
