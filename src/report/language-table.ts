/**
 * `report`'s language × model tables: for each dataset and split whose runs store a language (`params.language`:
 * multilingual retrieval, classification with --language), one row per model, one column per language, the
 * cell the run's headline — retrieval: mean_recall@1, ½ (text→image R@1 + image→text R@1); classification:
 * its headline metric (top-1 mostly) — with its n. No run for a model and language: "—". Pure: runs in, tables out.
 */
import type { RunRecord } from '../store/runs.js';
import { csvField, headlineOf, isPartial, moreComplete, rowLabel } from './accuracy-table.js';

export interface LanguageCell {
  runId: number;
  /** the headline as stored (a fraction) */
  value: number;
  /** images (retrieval) or samples (classification) scored */
  n: number;
  /** a shard or a --limit below the split */
  partial: boolean;
}

export interface LanguageTable {
  task: 'classification' | 'retrieval';
  dataset: string;
  split: string;
  /** the headline metric of every cell (a table never mixes metrics) */
  metric: string;
  /** sorted by code */
  languages: string[];
  /** sorted by model label; `cells[i]` is `languages[i]`'s, null where the model has no run in it */
  rows: { model: string; cells: (LanguageCell | null)[] }[];
  /** finished runs of the table that a more complete run of the same model and language displaced */
  notShown: number[];
}

/** Finished runs that store a language and have a headline value, as tables; the order is dataset, split, task. */
export function buildLanguageTables(runs: readonly RunRecord[]): LanguageTable[] {
  const groups = new Map<string, { task: LanguageTable['task']; dataset: string; split: string; metric: string; runs: { run: RunRecord; language: string; value: number }[] }>();
  for (const run of runs) {
    const language = run.params?.language;
    if (run.status !== 'finished' || typeof language !== 'string') continue;
    const { headline, value } = headlineOf(run);
    if (value === null || value === undefined) continue; // a retrieval shard, not ranked until merged
    const task = run.task === 'retrieval' ? 'retrieval' : 'classification';
    const key = JSON.stringify([run.dataset, run.split, task, headline]);
    if (!groups.has(key)) groups.set(key, { task, dataset: run.dataset, split: run.split, metric: headline, runs: [] });
    groups.get(key)!.runs.push({ run, language, value });
  }
  const tables = [...groups.values()].map((g): LanguageTable => {
    const languages = [...new Set(g.runs.map((r) => r.language))].sort();
    const shown = new Map<string, { label: string; cells: ({ run: RunRecord; value: number } | null)[] }>();
    const notShown: number[] = [];
    for (const { run, language, value } of g.runs) {
      const model = `${run.modelFingerprint}\u0000${run.modelVariant}`;
      if (!shown.has(model)) shown.set(model, { label: rowLabel({ model: run.modelName, variant: run.modelVariant, fingerprint: run.modelFingerprint }), cells: languages.map(() => null) });
      const cells = shown.get(model)!.cells;
      const c = languages.indexOf(language);
      const prev = cells[c];
      if (!prev || moreComplete(run, prev.run)) {
        if (prev) notShown.push(prev.run.id);
        cells[c] = { run, value };
      } else notShown.push(run.id);
    }
    const rows = [...shown.values()]
      .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0))
      .map((m) => ({ model: m.label, cells: m.cells.map((x) => (x ? { runId: x.run.id, value: x.value, n: x.run.n ?? 0, partial: isPartial(x.run) } : null)) }));
    return { task: g.task, dataset: g.dataset, split: g.split, metric: g.metric, languages, rows, notShown: notShown.sort((a, b) => a - b) };
  });
  const order = (t: LanguageTable) => [t.dataset, t.split, t.task, t.metric].join('\u0000');
  return tables.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

export const MISSING_CELL = '—';

/** "53.20 (n=3600)", "12.00 (n=100, partial)", or "—". */
export function languageCellText(c: LanguageCell | null): string {
  return c ? `${(100 * c.value).toFixed(2)} (n=${c.n}${c.partial ? ', partial' : ''})` : MISSING_CELL;
}

/** "xtd10 / test: mean_recall@1 (%) by caption language, n = images" */
export function languageTableTitle(t: LanguageTable): string {
  return `${t.dataset} / ${t.split}: ${t.metric} (%) by ${t.task === 'retrieval' ? 'caption language, n = images' : 'prompt language, n = samples'}`;
}

function notShownNote(t: LanguageTable): string | null {
  if (t.notShown.length === 0) return null;
  return `Run${t.notShown.length === 1 ? '' : 's'} ${t.notShown.join(', ')} of the same model and language ${t.notShown.length === 1 ? 'is' : 'are'} not shown: each cell shows the most complete run (whole split first, then more samples, then the latest).`;
}

/** The Markdown section (nothing where no run stores a language). */
export function languageTablesMarkdown(tables: readonly LanguageTable[]): string[] {
  if (tables.length === 0) return [];
  return [
    '### Languages',
    '',
    ...tables.flatMap((t) => {
      const note = notShownNote(t);
      return [
        `#### ${languageTableTitle(t)}`,
        '',
        `| model | ${t.languages.join(' | ')} |`,
        `| --- |${t.languages.map(() => ' ---: |').join('')}`,
        ...t.rows.map((r) => `| ${r.model} | ${r.cells.map(languageCellText).join(' | ')} |`),
        '',
        ...(note ? [`_${note}_`, ''] : []),
      ];
    }),
  ];
}

export const LANGUAGE_CSV_HEADER = 'dataset,split,task,metric,model,language,value,n,partial,run_id';

/** One line per table cell (every model × language; a missing cell with its value, n and run empty); values as stored (fractions). */
export function languageTablesCsv(tables: readonly LanguageTable[]): string {
  const lines = tables.flatMap((t) =>
    t.rows.flatMap((r) =>
      t.languages.map((language, i) => {
        const c = r.cells[i];
        return [t.dataset, t.split, t.task, t.metric, r.model, language, c?.value ?? '', c?.n ?? '', c ? c.partial : '', c?.runId ?? ''].map((f) => csvField(String(f))).join(',');
      }),
    ),
  );
  return [LANGUAGE_CSV_HEADER, ...lines].join('\n') + '\n';
}

/** The tables as JSON (cells null where missing). */
export function languageTablesJson(tables: readonly LanguageTable[]) {
  return tables.map((t) => ({ ...t, title: languageTableTitle(t) }));
}

/** The HTML section; `esc` escapes text for HTML. */
export function languageTablesHtml(tables: readonly LanguageTable[], esc: (s: string) => string): string[] {
  if (tables.length === 0) return [];
  return [
    '<section id="languages"><h2>Languages</h2>',
    ...tables.flatMap((t) => {
      const note = notShownNote(t);
      return [
        `<h3>${esc(languageTableTitle(t))}</h3>`,
        `<table class="languages" data-dataset="${esc(t.dataset)}">`,
        `<tr><th>model</th>${t.languages.map((l) => `<th class="num">${esc(l)}</th>`).join('')}</tr>`,
        ...t.rows.map((r) => `<tr><td>${esc(r.model)}</td>${r.cells.map((c) => `<td class="num"${c ? ` title="run ${c.runId}"` : ''}>${esc(languageCellText(c))}</td>`).join('')}</tr>`),
        '</table>',
        ...(note ? [`<p class="muted">${esc(note)}</p>`] : []),
      ];
    }),
    '</section>',
  ];
}
