/**
 * What one run got wrong, from its stored predictions: accuracy per class, the class pairs it confuses
 * most, its failed samples, and how well its confidence (under the run's own scoring link) is calibrated. Pure functions over
 * prediction rows; a failed sample (no top-5) counts as wrong unless the run excluded failures.
 */
import { mean, rollup } from 'd3-array';
import { CLIP_SOFTMAX_LINK, describeLink, linkIsTrained, topConfidence, type ScoringLink } from '../models/scoring-link.js';
import type { PredictionRow } from '../store/runs.js';
import { confidenceBin, type CalibrationBin } from './stats.js';

type Row = Pick<PredictionRow, 'label' | 'top5'>;

export interface ClassAccuracy {
  classIndex: number;
  classId: string;
  /** display name from the prompt set, else the id */
  name: string;
  n: number;
  correct: number;
  /** correct / n; NaN for a class without samples */
  accuracy: number;
}

/** The rows a metric is computed over: all of them (failures count as wrong, as in the paper) or only the decoded ones. */
export function scoredRows<T extends Row>(rows: readonly T[], excludeFailures: boolean): T[] {
  return excludeFailures ? rows.filter((r) => r.top5 !== null) : [...rows];
}

/**
 * Top-1 accuracy of each class, in label order; classes without samples get n = 0 and NaN.
 * @param names display names in label order (defaults to the ids)
 * @example perClassAccuracy([{ label: 0, top5: [0] }, { label: 0, top5: [1] }, { label: 1, top5: null }], ['cat', 'dog'])
 * // → [{ classId: 'cat', n: 2, correct: 1, accuracy: 0.5, … }, { classId: 'dog', n: 1, correct: 0, accuracy: 0, … }]
 */
export function perClassAccuracy(rows: readonly Row[], classIds: readonly string[], names: readonly string[] = classIds): ClassAccuracy[] {
  const n = new Array<number>(classIds.length).fill(0);
  const correct = new Array<number>(classIds.length).fill(0);
  for (const r of rows) {
    if (!(r.label >= 0 && r.label < classIds.length)) throw new RangeError(`perClassAccuracy: label ${r.label} is outside [0, ${classIds.length})`);
    n[r.label]++;
    if (r.top5 !== null && r.top5[0] === r.label) correct[r.label]++;
  }
  return classIds.map((classId, i) => ({ classIndex: i, classId, name: names[i] ?? classId, n: n[i], correct: correct[i], accuracy: n[i] ? correct[i] / n[i] : Number.NaN }));
}

export interface ConfusionPair {
  label: number;
  predicted: number;
  count: number;
  /** count / samples of the true class */
  share: number;
}

/**
 * The most frequent (true class → predicted class) mistakes among decoded samples, most frequent first
 * (ties: by true class, then predicted class).
 * @example confusionPairs([{ label: 0, top5: [1] }, { label: 0, top5: [1] }, { label: 1, top5: [0] }, { label: 1, top5: [1] }], 5)
 * // → [{ label: 0, predicted: 1, count: 2, share: 1 }, { label: 1, predicted: 0, count: 1, share: 0.5 }]
 */
export function confusionPairs(rows: readonly Row[], top = 10): ConfusionPair[] {
  const perLabel = rollup(rows, (v) => v.length, (r) => r.label);
  const mistakes = rows.filter((r) => r.top5 !== null && r.top5[0] !== r.label);
  const counts = rollup(mistakes, (v) => v.length, (r) => r.label, (r) => r.top5![0]);
  const pairs: ConfusionPair[] = [];
  for (const [label, byPred] of counts) for (const [predicted, count] of byPred) pairs.push({ label, predicted, count, share: count / perLabel.get(label)! });
  return pairs.sort((a, b) => b.count - a.count || a.label - b.label || a.predicted - b.predicted).slice(0, top);
}

export interface FailureSummary {
  count: number;
  /** distinct reasons, most frequent first */
  reasons: { reason: string; count: number }[];
}

/** Samples that could not be decoded, grouped by their reason. */
export function failureSummary(rows: readonly Pick<PredictionRow, 'error' | 'top5'>[]): FailureSummary {
  const failed = rows.filter((r) => r.top5 === null);
  const reasons = [...rollup(failed, (v) => v.length, (r) => r.error ?? 'unknown error')]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  return { count: failed.length, reasons };
}

export interface Calibration {
  ece: number;
  bins: CalibrationBin[];
  /** decoded samples that entered the diagram */
  n: number;
  /**
   * `stored`: the top-1 probability under the run's link, kept with each prediction;
   * `top1`: runs made before it was kept, under a sigmoid link — recomputed exactly from the stored top-1 logit;
   * `top5`: runs made before it was kept, under a softmax link — the softmax over the five stored logits only,
   * which overstates the confidence (the other classes' mass is missing): an approximation.
   */
  source: 'stored' | 'top1' | 'top5';
  /** the link the confidences come from (`params.scoring`; CLIP's softmax 100 for runs that predate it) */
  link: ScoringLink;
  /** the link's one-line description, with a warning when its numbers are a default or init values */
  linkNote: string;
}

/** What a calibration line says about its link: the formula and source, and whether it describes the model. */
export function calibrationLinkNote(link: ScoringLink): string {
  return linkIsTrained(link) ? describeLink(link) : `${describeLink(link)} — not the trained values, so this ECE does not describe the model's own calibration`;
}

/**
 * Reliability bins and ECE from top-1 confidences and correctness, with the equal-width bins (k/B, (k+1)/B]
 * of `expectedCalibrationError` in stats.ts.
 * @example calibrationFromConfidences([0.9, 0.9, 0.3], [1, 0, 0], 10).ece // → (2·|0.5 − 0.9| + |0 − 0.3|) / 3 = 0.3667
 */
export function calibrationFromConfidences(confidence: readonly number[], correct: readonly number[], nBins = 15): { ece: number; bins: CalibrationBin[] } {
  if (confidence.length !== correct.length) throw new RangeError(`calibrationFromConfidences: ${confidence.length} confidences but ${correct.length} outcomes`);
  if (!Number.isInteger(nBins) || nBins < 1) throw new RangeError(`calibrationFromConfidences: bins must be a positive integer, got ${nBins}`);
  const members = Array.from({ length: nBins }, () => [] as number[]);
  confidence.forEach((c, i) => {
    if (!(c >= 0 && c <= 1)) throw new RangeError(`calibrationFromConfidences: confidence ${c} of sample ${i} is not in [0, 1]`);
    members[confidenceBin(c, nBins)].push(i);
  });
  const n = confidence.length;
  let ece = 0;
  const bins = members.map((idx, k) => {
    const accuracy = mean(idx, (i) => correct[i]) ?? Number.NaN;
    const conf = mean(idx, (i) => confidence[i]) ?? Number.NaN;
    if (idx.length) ece += (idx.length / n) * Math.abs(accuracy - conf);
    return { lo: k / nBins, hi: (k + 1) / nBins, count: idx.length, accuracy, confidence: conf };
  });
  return { ece, bins };
}

/**
 * The run's reliability diagram under its own link: stored confidences where every decoded sample has one,
 * else (older runs) recomputed from the stored logits (at CLIP's scale of 100): exactly from the top-1 logit
 * for a sigmoid link, approximately from the top-5 for a softmax one.
 */
export function runCalibration(rows: readonly Pick<PredictionRow, 'label' | 'top5' | 'top5Logits' | 'confidence'>[], nBins = 15, link: ScoringLink = CLIP_SOFTMAX_LINK): Calibration | null {
  const decoded = rows.filter((r) => r.top5 !== null && r.top5Logits !== null);
  if (decoded.length === 0) return null;
  const stored = decoded.every((r) => typeof r.confidence === 'number');
  const confidence = decoded.map((r) => (stored ? r.confidence! : topConfidence(link, r.top5Logits!, 0)));
  const correct = decoded.map((r) => (r.top5![0] === r.label ? 1 : 0));
  const source = stored ? 'stored' : link.link === 'sigmoid' ? 'top1' : 'top5';
  return { ...calibrationFromConfidences(confidence, correct, nBins), n: decoded.length, source, link, linkNote: calibrationLinkNote(link) };
}
