/**
 * A suite's dataset groups and their averages (DataComp's way: ImageNet; ImageNet distribution shifts; VTAB
 * natural / specialized / structured; retrieval; all), and each dataset's chance level. A group is averaged
 * only when every one of its datasets has a value; otherwise it says "k of n" and has no mean, so a partial
 * run never passes for the group's number.
 */
import type { MetricId } from '../eval/metric-ids.js';
import { RETRIEVAL_HEADLINE } from '../eval/retrieval-metrics.js';
import type { SuiteGroup } from '../eval/suite-groups.js';
import { entryName, type Suite } from '../eval/suite.js';
import { rowLabel, suiteCells, type AccuracyTable } from './accuracy-table.js';
import type { RetrievalRunView } from './retrieval-section.js';

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
  /** mean chance level of the group's datasets (percent), where every one is known; absent without chance levels */
  chance?: number | null;
}

/**
 * @example groupAverages([{ id: 'g', name: 'G', datasets: ['a', 'b'] }], new Map([['a', 50], ['b', 70]])) // → [{ id: 'g', name: 'G', present: 2, of: 2, missing: [], mean: 60, text: '60.00' }]
 * @example groupAverages([{ id: 'g', name: 'G', datasets: ['a', 'b'] }], new Map([['a', 50]]))[0].text // → '1 of 2'
 */
export function groupAverages(groups: readonly SuiteGroup[], values: ReadonlyMap<string, number>, chance?: ReadonlyMap<string, number | null>): GroupAverage[] {
  return groups.map((g) => {
    const have = g.datasets.filter((d) => values.has(d));
    const missing = g.datasets.filter((d) => !values.has(d));
    const mean = missing.length === 0 ? have.reduce((s, d) => s + values.get(d)!, 0) / have.length : null;
    const chances = g.datasets.map((d) => chance?.get(d) ?? null);
    const out: GroupAverage = { id: g.id, name: g.name, present: have.length, of: g.datasets.length, missing, mean, text: mean === null ? `${have.length} of ${g.datasets.length}` : mean.toFixed(2) };
    if (chance) out.chance = chances.every((c) => c !== null) ? chances.reduce((s, c) => s + c!, 0) / chances.length : null;
    return out;
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

/** One suite's groups averaged per model, as `report` shows them. */
export interface ReportGroups {
  suite: string;
  averaging: string | null;
  groups: { id: string; name: string; of: number }[];
  rows: { model: string; groups: GroupAverage[] }[];
}

/**
 * The group averages of every suite with groups, per model: a classification row's cells (one per dataset,
 * as the suite mean picks them) or a model's ranked retrieval runs (mean_recall@1), by the suite's dataset ids.
 * A suite none of whose datasets any model ran is left out.
 */
export function reportGroupAverages(t: AccuracyTable, retrieval: readonly RetrievalRunView[], suites: readonly Suite[]): ReportGroups[] {
  const sources: { model: string; values: Map<string, number> }[] = t.rows.map((row) => ({ model: rowLabel(row), values: new Map(suiteCells(t, row).map((c) => [c.dataset, 100 * c.cell.headlineValue!])) }));
  const byModel = new Map<string, Map<string, number>>();
  for (const v of retrieval) {
    const value = v.metrics[RETRIEVAL_HEADLINE];
    if (typeof value !== 'number' || v.language) continue;
    byModel.set(v.model, (byModel.get(v.model) ?? new Map()).set(v.dataset, 100 * value));
  }
  sources.push(...[...byModel].map(([model, values]) => ({ model, values })));
  const out: ReportGroups[] = [];
  for (const s of suites) {
    if (!s.groups?.length) continue;
    const rows = sources.flatMap(({ model, values }) => {
      const byName = new Map(s.datasets.flatMap((e) => (values.has(e.dataset) ? [[entryName(e), values.get(e.dataset)!] as const] : [])));
      return byName.size ? [{ model, groups: groupAverages(s.groups!, byName) }] : [];
    });
    if (rows.length) out.push({ suite: s.id, averaging: s.averaging?.description ?? null, groups: s.groups.map((g) => ({ id: g.id, name: g.name, of: g.datasets.length })), rows });
  }
  return out;
}

export function reportGroupsMarkdown(all: readonly ReportGroups[]): string[] {
  return all.flatMap((r) => [
    `### Group averages: suite ${r.suite}`,
    '',
    ...(r.averaging ? [`Each group: ${r.averaging}. "k of n": only k of the group's n datasets ran, so it is not averaged.`, ''] : ['"k of n": only k of the group\'s n datasets ran, so it is not averaged.', '']),
    `| model | ${r.groups.map((g) => `${g.name} (${g.of})`.replaceAll('|', '\\|')).join(' | ')} |`,
    `|---|${r.groups.map(() => '---:').join('|')}|`,
    ...r.rows.map((row) => `| ${row.model} | ${row.groups.map((g) => g.text).join(' | ')} |`),
    '',
  ]);
}

export function reportGroupsHtml(all: readonly ReportGroups[], esc: (s: string) => string): string[] {
  if (all.length === 0) return [];
  return [
    '<section id="group-averages"><h2>Group averages</h2>',
    ...all.flatMap((r) => [
      `<h3>Suite ${esc(r.suite)}</h3>`,
      `<p class="muted">${r.averaging ? `Each group: ${esc(r.averaging)}. ` : ''}"k of n": only k of the group's n datasets ran, so it is not averaged.</p>`,
      `<table class="groups"><tr><th>model</th>${r.groups.map((g) => `<th class="num group">${esc(g.name)} (${g.of})</th>`).join('')}</tr>`,
      ...r.rows.map((row) => `<tr><td>${esc(row.model)}</td>${row.groups.map((g) => `<td class="num"${g.mean === null ? ` title="missing: ${esc(g.missing.join(', '))}"` : ''}>${esc(g.text)}</td>`).join('')}</tr>`),
      '</table>',
    ]),
    '</section>',
  ];
}
