/**
 * Everything `clip-bench report` shows, read once from the results DB: the accuracy table, the paper's
 * numbers beside it, the suite mean, and per run its per-class accuracy, most-confused pairs, failures
 * and calibration; plus prompt ablations found among the runs. Rendered here as Markdown, CSV and JSON,
 * and by html.ts as a page.
 */
import type { Db } from '../store/db.js';
import { getRun, isRetrievalRun, iteratePredictions, listRuns } from '../store/runs.js';
import { DATASETS, type DatasetId } from '../datasets/index.js';
import { datasetNames, hasNoNames, loadPromptSet, resolvePrompts, withDatasetNames } from '../prompts/prompt-set.js';
import { ablationGroups, ablationMarkdown, type Ablation } from './ablation.js';
import {
  accuracyTableCsv,
  accuracyTableMarkdown,
  buildAccuracyTable,
  referenceTable,
  suiteMean,
  rowLabel,
  type AccuracyTable,
  type ReferenceTable,
  type SuiteMean,
} from './accuracy-table.js';
import { listCosts } from '../store/cost.js';
import { buildCostSection, costSectionCsv, costSectionMarkdown, type CostSection, type DatasetGroup } from './cost-section.js';
import { buildLanguageTables, languageTablesCsv, languageTablesJson, languageTablesMarkdown, type LanguageTable } from './language-table.js';
import { paperCell } from './paper.js';
import { isRankedRetrievalRun, retrievalRunViews } from './retrieval-runs.js';
import { retrievalCsv, retrievalSectionJson, retrievalSectionMarkdown, type RetrievalRunView } from './retrieval-section.js';
import { runListing, unfinishedLine, type RunListing } from './run-list.js';
import { confusionPairs, failureSummary, perClassAccuracy, runCalibration, scoredRows, type Calibration, type ClassAccuracy, type ConfusionPair, type FailureSummary } from './per-class.js';
import { runLink } from '../models/scoring-link.js';
import type { PublishedReference } from '../references/published-reference.js';
import { buildPublishedSection, publishedSectionCsv, publishedSectionMarkdown, type PublishedSection } from './published-section.js';
import { listImported } from '../store/imported.js';
import { listSuites, loadSuite, type Suite } from '../eval/suite.js';
import { reportGroupAverages, reportGroupsMarkdown, type ReportGroups } from './group-averages.js';
import { buildImportedSection, importedSectionCsv, importedSectionMarkdown, type ImportedSection } from './imported-section.js';

export interface NamedConfusion extends ConfusionPair {
  labelName: string;
  predictedName: string;
}

export interface RunDetails {
  runId: number;
  /** "model [variant] on dataset with prompts" */
  title: string;
  /** where the names come from: the run's prompt set, or the class ids when it cannot be matched */
  namesFrom: 'prompt set' | 'class ids';
  excludeFailures: boolean;
  perClass: ClassAccuracy[];
  confusions: NamedConfusion[];
  failures: FailureSummary;
  calibration: Calibration | null;
}

export interface ReportData {
  generatedAt: string;
  table: AccuracyTable;
  reference?: ReferenceTable;
  /** one per table row */
  suite: SuiteMean[];
  details: RunDetails[];
  ablations: Ablation[];
  /** runs not finished (running, interrupted, failed), with how far they got and how to continue them */
  unfinished: RunListing[];
  /** the DB's ranked retrieval runs, each a section beside (not in) the classification table */
  retrieval: RetrievalRunView[];
  /** finished retrieval shard runs: embedded but not ranked until merged, so not in a section */
  unrankedRetrieval: number[];
  /** the language × model tables of the runs that store a language (language-table.ts) */
  languages: LanguageTable[];
  /** accuracy beside what `clip-bench cost` measured, per dataset group, Pareto fronts marked (cost-section.ts); null without cost records */
  cost: CostSection | null;
  /** our cells beside a published result table (`--reference-file`; published-section.ts) */
  published?: PublishedSection;
  /** results read by `clip-bench import`, not measured here (imported-section.ts); null without any */
  imported: ImportedSection | null;
  /** the shipped suites' dataset groups averaged per model (group-averages.ts) */
  groups: ReportGroups[];
}

export interface ReportOptions {
  /** paper model to put beside ours (ViT-B/32, …) */
  reference?: string;
  /** points; deltas beyond it are flagged (default 1) */
  tolerance?: number;
  /** most-confused pairs per run (default 10) */
  confusions?: number;
  /** read every shown run's predictions for its per-run details (default true; the CSV needs none) */
  details?: boolean;
  /** the DB's file, for the commands that continue unfinished runs */
  dbFile?: string;
  /** a published result table to put beside ours (`--reference-file`, `--reference openclip:ARCH/tag`) */
  published?: PublishedReference | null;
}

/**
 * Display names of a run's classes: the first name its prompt set gives each class id — only when the
 * prompt set, resolved again now, has the hash stored with the run (so a changed or unrelated file never
 * puts wrong names on the classes); else the class ids.
 */
export function classNamesFor(promptSet: string, promptHash: string, classIds: readonly string[], dataset: string): { names: string[]; from: RunDetails['namesFrom'] } {
  try {
    const set = loadPromptSet(promptSet);
    // a templates-only set took the dataset's own names (as eval does; a function-valued default needs the root, so ids then)
    const own = Object.hasOwn(DATASETS, dataset) ? DATASETS[dataset as DatasetId].defaultPrompts : undefined;
    const named = hasNoNames(set) ? withDatasetNames(set, datasetNames(typeof own === 'string' ? own : undefined, classIds), classIds) : set;
    const resolved = resolvePrompts(named, classIds, dataset);
    if (resolved.hash === promptHash) return { names: resolved.classNames.map((n) => n[0]), from: 'prompt set' };
  } catch {
    // a user's prompt file that is not at hand, or a subset classifier: the ids will do
  }
  return { names: [...classIds], from: 'class ids' };
}

export function runDetails(db: Db, runId: number, topConfusions = 10): RunDetails {
  const run = getRun(db, runId);
  const rows = [...iteratePredictions(db, runId)];
  // Runs made before class ids were stored are shown by class index (as many as the labels need).
  const stored = Array.isArray(run.params.classIds) ? (run.params.classIds as string[]) : [];
  const nIds = rows.reduce((m, r) => Math.max(m, r.label + 1), Math.max(stored.length, run.nClasses));
  const classIds = Array.from({ length: nIds }, (_, i) => stored[i] ?? String(i));
  const { names, from } = classNamesFor(run.promptSet, run.promptHash, classIds, run.dataset);
  const excludeFailures = run.params.excludeFailures === true;
  const scored = scoredRows(rows, excludeFailures);
  const name = (i: number) => names[i] ?? String(i);
  return {
    runId,
    title: `${run.modelName}${run.modelVariant !== 'fp32' ? ` ${run.modelVariant}` : ''} on ${run.dataset}/${run.split} with prompts "${run.promptSet}"${typeof run.params.language === 'string' ? ` in language ${run.params.language}` : ''}`,
    namesFrom: from,
    excludeFailures,
    perClass: perClassAccuracy(scored, classIds, names),
    confusions: confusionPairs(scored, topConfusions).map((c) => ({ ...c, labelName: name(c.label), predictedName: name(c.predicted) })),
    failures: failureSummary(rows),
    calibration: runCalibration(rows, 15, runLink(run.params)),
  };
}

/** The shipped suites' groups as cost-plot axes: each set of datasets once, named by the suite where two names clash. */
export function costGroups(suites: readonly Suite[]): DatasetGroup[] {
  const all = suites.flatMap((s) => (s.groups ?? []).map((g) => ({ suite: s.id, name: g.name, datasets: [...g.datasets] })));
  const seen = new Set<string>();
  const unique = all.filter((g) => {
    const k = [...g.datasets].sort().join('\0');
    return seen.has(k) ? false : (seen.add(k), true);
  });
  return unique.map((g) => ({ name: unique.some((o) => o !== g && o.name === g.name) ? `${g.name} (${g.suite})` : g.name, datasets: g.datasets }));
}

export function collectReport(db: Db, opts: ReportOptions = {}): ReportData {
  const all = listRuns(db);
  const runs = all.filter((r) => !isRetrievalRun(r));
  const table = buildAccuracyTable(runs);
  const lookup = opts.reference ? (dataset: string) => paperCell(dataset, opts.reference!) : undefined;
  const retrieval = retrievalRunViews(db, { reference: opts.reference, tolerance: opts.tolerance });
  const suites = listSuites().map(loadSuite);
  return {
    generatedAt: new Date().toISOString(),
    table,
    ...(opts.reference ? { reference: referenceTable(table, opts.reference, lookup!, opts.tolerance ?? 1) } : {}),
    suite: table.rows.map((r) => suiteMean(table, r, lookup)),
    details: opts.details === false ? [] : table.runs.map((r) => runDetails(db, r.runId, opts.confusions ?? 10)),
    ablations: ablationGroups(runs),
    unfinished: runListing(db, opts.dbFile ?? 'FILE').filter((r) => r.status !== 'finished'),
    retrieval,
    unrankedRetrieval: all.filter((r) => isRetrievalRun(r) && r.status === 'finished' && !isRankedRetrievalRun(r)).map((r) => r.id),
    languages: buildLanguageTables(all),
    cost: buildCostSection(table, listCosts(db), costGroups(suites)),
    ...(opts.published ? { published: buildPublishedSection(table, opts.published, (i) => rowLabel(table.rows[i])) } : {}),
    imported: buildImportedSection(listImported(db)),
    groups: reportGroupAverages(table, retrieval, suites),
  };
}

/** Markdown lines naming the unfinished runs and how to continue each (none when every run finished). */
function unfinishedMarkdown(d: ReportData): string[] {
  if (d.unfinished.length === 0) return [];
  return ['### Unfinished runs (not in the table)', '', ...d.unfinished.map((r) => `- ${unfinishedLine(r)}`), ''];
}

const pct = (x: number) => (Number.isNaN(x) ? 'n/a' : (100 * x).toFixed(2));

function detailsMarkdown(d: RunDetails): string[] {
  const worst = [...d.perClass].filter((c) => c.n > 0).sort((a, b) => a.accuracy - b.accuracy || a.classIndex - b.classIndex).slice(0, 5);
  const cal = d.calibration;
  return [
    `#### Run ${d.runId}: ${d.title}`,
    '',
    `- failed samples: ${d.failures.count}${d.failures.count ? ` (${d.failures.reasons.map((r) => `${r.count}× ${r.reason}`).join('; ')})${d.excludeFailures ? ', excluded' : ', counted as wrong'}` : ''}`,
    `- lowest per-class accuracy: ${worst.map((c) => `${c.name} ${pct(c.accuracy)}% (${c.correct}/${c.n})`).join(', ') || 'no samples'}`,
    `- most confused (true → predicted): ${d.confusions.map((c) => `${c.labelName} → ${c.predictedName} ×${c.count}`).join(', ') || 'none'}`,
    ...(cal ? [`- calibration: ECE ${(100 * cal.ece).toFixed(2)}% over ${cal.n} decoded samples${cal.source === 'top5' ? ' (approximation: softmax over the stored top-5 logits; the run predates stored confidences)' : ''}; link ${cal.linkNote}`] : []),
    '',
  ];
}

/** The line naming retrieval shard runs, which have no ranks (and so no section) until merged. */
export function unrankedRetrievalNote(ids: readonly number[]): string | null {
  if (ids.length === 0) return null;
  const one = ids.length === 1;
  return `Retrieval run${one ? '' : 's'} ${ids.join(', ')} ${one ? 'is a shard' : 'are shards'}, not ranked until merged (\`clip-bench merge\`), so not shown here.`;
}

/** The retrieval runs' sections, after the classification table. */
export function retrievalMarkdown(views: readonly RetrievalRunView[], unranked: readonly number[] = []): string[] {
  const note = unrankedRetrievalNote(unranked);
  if (!views.length && !note) return [];
  return ['### Retrieval', '', ...views.flatMap((v) => [retrievalSectionMarkdown(v), '']), ...(note ? [`_${note}_`, ''] : [])];
}

export function reportMarkdown(d: ReportData): string {
  const head = accuracyTableMarkdown(d.table, { reference: d.reference, suite: d.suite });
  if (d.table.columns.length === 0) {
    if (d.retrieval.length || d.unrankedRetrieval.length) return ['_No finished classification runs._', '', ...retrievalMarkdown(d.retrieval, d.unrankedRetrieval), ...reportGroupsMarkdown(d.groups), ...languageTablesMarkdown(d.languages), ...importedSectionMarkdown(d.imported), ...unfinishedMarkdown(d)].join('\n');
    if (d.imported) return ['_No runs measured here._', '', ...importedSectionMarkdown(d.imported), ...unfinishedMarkdown(d)].join('\n');
    return d.unfinished.length ? ['_No finished runs yet._', '', ...unfinishedMarkdown(d)].join('\n') : head;
  }
  return [
    head,
    ...(d.published ? publishedSectionMarkdown(d.published) : []),
    ...reportGroupsMarkdown(d.groups),
    ...costSectionMarkdown(d.cost),
    ...retrievalMarkdown(d.retrieval, d.unrankedRetrieval),
    ...languageTablesMarkdown(d.languages),
    ...importedSectionMarkdown(d.imported),
    ...unfinishedMarkdown(d),
    ...(d.ablations.length ? ['### Prompt ablations', '', ...d.ablations.map(ablationMarkdown)] : []),
    '### Per run',
    '',
    `Per-class tables and the reliability diagrams are in \`--format json\` and \`--format html\`.`,
    '',
    ...d.details.flatMap(detailsMarkdown),
  ].join('\n');
}

/**
 * The classification CSV; retrieval runs follow as their own long-format table (one line per metric) after a
 * blank line, or alone where the DB has no classification run; then the language tables (one line per cell), then
 * the accuracy-and-cost rows (one per model and dataset group), then the published comparison (one line per compared cell).
 */
export function reportCsv(d: ReportData): string {
  const trailing =
    (d.languages.length ? '\n' + languageTablesCsv(d.languages) : '') +
    (d.cost ? '\n' + costSectionCsv(d.cost) : '') +
    (d.imported ? '\n' + importedSectionCsv(d.imported) : '') +
    (d.published ? '\n' + publishedSectionCsv(d.published) : '');
  const classification = () => accuracyTableCsv(d.table, { reference: d.reference });
  if (d.retrieval.length === 0) return trailing ? classification().replace(/\n?$/, '\n') + trailing : classification();
  if (d.table.columns.length === 0) return retrievalCsv(d.retrieval) + trailing;
  return classification().replace(/\n?$/, '\n') + '\n' + retrievalCsv(d.retrieval) + trailing;
}

/** The table (as before: columns, rows, runs) with everything else beside it. */
export function reportJson(d: ReportData): string {
  const { table, retrieval, languages, ...rest } = d;
  return JSON.stringify({ ...table, ...rest, retrieval: retrieval.map(retrievalSectionJson), languages: languageTablesJson(languages) }, null, 2) + '\n';
}
