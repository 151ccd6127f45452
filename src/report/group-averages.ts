/**
 * A suite's dataset groups and their averages (DataComp's way: ImageNet; ImageNet distribution shifts; VTAB
 * natural / specialized / structured; retrieval; all), and each dataset's chance level. A group is averaged
 * only when every one of its datasets has a value; otherwise it says "k of n" and has no mean, so a partial
 * run never passes for the group's number.
 */
import type { MetricId } from '../eval/metric-ids.js';
import type { SuiteGroup } from '../eval/suite-groups.js';

export interface GroupAverage {
  id: string;
  name: string;
  /** datasets of the group with a value, of its total */
  present: number;
  of: number;
  /** the group's datasets without a value */
  missing: string[];
  /** unweighted mean of the members' values (percent); null unless all are present */
  mean: number | null;
  /** "76.20" or "3 of 7" */
  text: string;
}

/**
 * @example groupAverages([{ id: 'g', name: 'G', datasets: ['a', 'b'] }], new Map([['a', 50], ['b', 70]])) // → [{ id: 'g', name: 'G', present: 2, of: 2, missing: [], mean: 60, text: '60.00' }]
 * @example groupAverages([{ id: 'g', name: 'G', datasets: ['a', 'b'] }], new Map([['a', 50]]))[0].text // → '1 of 2'
 */
export function groupAverages(groups: readonly SuiteGroup[], values: ReadonlyMap<string, number>): GroupAverage[] {
  return groups.map((g) => {
    const have = g.datasets.filter((d) => values.has(d));
    const missing = g.datasets.filter((d) => !values.has(d));
    const mean = missing.length === 0 ? have.reduce((s, d) => s + values.get(d)!, 0) / have.length : null;
    return { id: g.id, name: g.name, present: have.length, of: g.datasets.length, missing, mean, text: mean === null ? `${have.length} of ${g.datasets.length}` : mean.toFixed(2) };
  });
}

/**
 * The score of guessing uniformly at random, as a fraction: 1/classes for top-1 and mean per-class recall,
 * 5/classes for top-5, their mean for mean-top1-top5, 0.5 for ROC AUC. Null where it depends on the data
 * (11-point mAP: each class's prevalence; retrieval: the gallery), which a suite states instead.
 */
export function chanceLevel(metric: MetricId, classes: number | null): number | null {
  if (metric === 'roc-auc') return 0.5;
  if (classes === null || classes < 1) return null;
  if (metric === 'top1' || metric === 'mean-per-class-recall') return 1 / classes;
  if (metric === 'top5') return Math.min(1, 5 / classes);
  if (metric === 'mean-top1-top5') return (1 / classes + Math.min(1, 5 / classes)) / 2;
  return null;
}
