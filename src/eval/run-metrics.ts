/**
 * Every metric of a finished run, computed from its stored predictions: top-1, top-5 (N/A below five
 * classes), mean per-class recall, mean(top-1, top-5) and, for two classes, ROC AUC — plus which one is
 * the paper's headline for the dataset — and, for multi-label runs (rows with `targets`), the
 * VOC2007 11-point mAP over every class's stored logit.
 */
import type { PredictionRow } from '../store/runs.js';
import type { MetricId } from './metric-ids.js';
import { accuracyStderr, topKCorrect } from './metrics.js';
import { elevenPointMap, meanPerClassRecall, rocAuc, top1FromPredictions } from './paper-metrics.js';

/** Bumped when scoring changes, so results of different scoring never share an identity. */
export const METRICS_VERSION = 2;

export interface MetricValue {
  value: number | null;
  higher_is_better: true;
  stderr?: number;
}

export interface RunMetrics {
  /** samples scored: all of them, or only the decoded ones with excludeFailures */
  n: number;
  nFailed: number;
  top1: number;
  /** null where the dataset has fewer than five classes (the paper's N/A) */
  top5: number | null;
  headline: MetricId;
  headlineValue: number | null;
  excludeFailures: boolean;
  metrics: Record<string, unknown>;
}

export function computeRunMetrics(rows: readonly PredictionRow[], nClasses: number, headline: MetricId, excludeFailures: boolean): RunMetrics {
  const nFailed = rows.filter((r) => r.top5 === null).length;
  const scored = excludeFailures ? rows.filter((r) => r.top5 !== null) : rows;
  const n = scored.length;
  const preds = scored.map((r) => r.top5);
  const labels = scored.map((r) => r.label);
  const acc = (k: number) => (n ? topKCorrect(preds, labels, k) / n : 0);
  const top1 = acc(1);
  const top5 = nClasses >= 5 ? acc(5) : null;
  const values: Partial<Record<MetricId, MetricValue>> = {
    top1: { value: top1, higher_is_better: true, stderr: accuracyStderr(top1, n) },
    top5: { value: top5, higher_is_better: true, ...(top5 === null ? {} : { stderr: accuracyStderr(top5, n) }) },
    'mean-per-class-recall': { value: n ? meanPerClassRecall(top1FromPredictions(preds), labels, nClasses) : null, higher_is_better: true },
    'mean-top1-top5': { value: top5 === null ? null : (top1 + top5) / 2, higher_is_better: true },
  };
  if (nClasses === 2) {
    // Binary: the score of class 1 is its logit minus class 0's, both kept in the top-5 lists.
    const scoredBinary = scored.filter((r) => r.top5 !== null);
    const scores = scoredBinary.map((r) => {
      const at = (c: number) => r.top5Logits![r.top5!.indexOf(c)];
      return at(1) - at(0);
    });
    values['roc-auc'] = { value: rocAuc(scores, scoredBinary.map((r) => r.label)), higher_is_better: true };
  }
  if (scored.some((r) => r.targets)) values['map-11pt'] = { value: multiLabelMap(scored, nClasses), higher_is_better: true };
  const headlineValue = values[headline]?.value ?? null;
  return {
    n,
    nFailed,
    top1,
    top5,
    headline,
    headlineValue,
    excludeFailures,
    metrics: { ...values, headline, failed_samples: nFailed, failed_samples_count_as_wrong: !excludeFailures, metrics_version: METRICS_VERSION },
  };
}

/** 11-point mAP over multi-label rows; a failed sample (no scores) ranks last for every class, i.e. counts as wrong. */
function multiLabelMap(rows: readonly PredictionRow[], nClasses: number): number | null {
  const scores = new Float32Array(rows.length * nClasses).fill(Number.NaN);
  const targets = new Uint8Array(rows.length * nClasses);
  rows.forEach((r, i) => {
    if (!r.targets || r.targets.length !== nClasses) throw new RangeError(`sample ${r.key}: multi-label targets missing or not ${nClasses} long`);
    targets.set(r.targets, i * nClasses);
    if (r.scores) scores.set(r.scores, i * nClasses);
  });
  try {
    return elevenPointMap(scores, targets, nClasses);
  } catch {
    return null; // no class has a positive sample
  }
}
