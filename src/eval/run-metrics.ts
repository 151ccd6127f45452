/**
 * Every metric of a finished run, computed from its stored predictions: top-1, top-5 (N/A below five
 * classes), mean per-class recall, mean(top-1, top-5) and, for two classes, ROC AUC — plus which one is
 * the paper's headline for the dataset — and, for multi-label runs (rows with `targets`), the
 * VOC2007 11-point mAP over every class's stored logit.
 *
 * One rule for failed samples (images that did not decode), in every metric: by default they count as
 * wrong — never a top-k hit, and in the ranking metrics (ROC AUC, mAP) the worst score for the classes they
 * belong to and the best for the others — or, with excludeFailures, they are left out of every metric and n.
 */
import type { PredictionRow } from '../store/runs.js';
import type { MetricId } from './metric-ids.js';
import { accuracyStderr, topKCorrect } from './metrics.js';
import { elevenPointMap, meanPerClassRecall, rocAuc, top1FromPredictions } from './paper-metrics.js';

/** Bumped when scoring changes, so results of different scoring never share an identity. */
export const METRICS_VERSION = 3;

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
    // Binary: the score of class 1 is its logit minus class 0's, both kept in the top-5 lists. A failed
    // sample still in `scored` is wrong: ranked below every negative if it is a positive, above every positive if not.
    const scores = scored.map((r) => {
      if (r.top5 === null) return worstScore(r.label === 1);
      const at = (c: number) => r.top5Logits![r.top5!.indexOf(c)];
      return at(1) - at(0);
    });
    values['roc-auc'] = { value: rocAuc(scores, scored.map((r) => r.label)), higher_is_better: true };
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

/**
 * The score that makes a failed sample wrong in a ranking metric: −∞ where it is a positive (ranked below
 * every sample, a miss), +∞ where it is a negative (ranked above every sample, a false alarm). The same rule
 * as top-k, where a failed sample is never right.
 */
export function worstScore(positive: boolean): number {
  return positive ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}

/** 11-point mAP over multi-label rows; a failed sample (no scores) is wrong for every class: see {@link worstScore}. */
function multiLabelMap(rows: readonly PredictionRow[], nClasses: number): number | null {
  const scores = new Float32Array(rows.length * nClasses);
  const targets = new Uint8Array(rows.length * nClasses);
  rows.forEach((r, i) => {
    if (!r.targets || r.targets.length !== nClasses) throw new RangeError(`sample ${r.key}: multi-label targets missing or not ${nClasses} long`);
    targets.set(r.targets, i * nClasses);
    if (r.scores) scores.set(r.scores, i * nClasses);
    else for (let c = 0; c < nClasses; c++) scores[i * nClasses + c] = worstScore(r.targets[c] === 1); // difficult (255) is left out of the ranking anyway
  });
  try {
    return elevenPointMap(scores, targets, nClasses);
  } catch {
    return null; // no class has a positive sample
  }
}
