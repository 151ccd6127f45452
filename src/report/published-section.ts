/**
 * Our numbers beside a published table's (`--reference-file`), for the report (every format) and the suite:
 * per model the row it is compared with, or why it has none; per dataset the published value, Δ (ours − theirs)
 * only where the two are comparable, and for every borrowed number its source and protocol note. Pure.
 */
import type { MetricId } from '../eval/metric-ids.js';
import { notSubtractedReason, publishedCell, publishedDelta, publishedRowFor, type PublishedCell, type PublishedReference } from '../references/published-reference.js';
import { publishedFileName } from '../references/published-table.js';
import { csvField, signed, type AccuracyTable } from './accuracy-table.js';
import { escapeXml as esc } from './plots.js';

export interface PublishedSectionCell {
  /** the dataset as our table labels it */
  label: string;
  /** the clip-bench dataset id looked up */
  dataset: string;
  /** our headline, percent */
  ours: number;
  metric: MetricId;
  published: PublishedCell;
  /** ours − theirs in points; null where not subtracted */
  delta: number | null;
  /** why not subtracted; null where subtracted */
  why: string | null;
}

export interface PublishedSectionRow {
  /** the model as our table labels it */
  label: string;
  model: string;
  /** the published row compared with */
  key: string | null;
  /** why the model has no row; null where it has one */
  missing: string | null;
  cells: PublishedSectionCell[];
}

export interface PublishedSection {
  file: string;
  fileName: string;
  kind: string;
  /** the one row every model is compared with (`--reference openclip:KEY`), or null: each model's own */
  fixedKey: string | null;
  rows: PublishedSectionRow[];
}

/** One of our results to put beside the published table. */
export interface OurResult {
  label: string;
  dataset: string;
  /** percent */
  ours: number;
  metric: MetricId;
}

/** One model's results beside its published row. */
export function publishedSectionRow(ref: PublishedReference, model: string, label: string, results: readonly OurResult[]): PublishedSectionRow {
  const match = publishedRowFor(ref, model);
  if (!match.row) return { label, model, key: match.key, missing: match.reason, cells: [] };
  const cells = results.flatMap((r): PublishedSectionCell[] => {
    const published = publishedCell(ref, match.row, r.dataset);
    if (!published) return [];
    return [{ label: r.label, dataset: r.dataset, ours: r.ours, metric: r.metric, published, delta: publishedDelta(r.ours, r.metric, published), why: notSubtractedReason(published, r.metric) }];
  });
  return { label, model, key: match.key, missing: null, cells };
}

export function publishedSection(ref: PublishedReference, rows: PublishedSectionRow[]): PublishedSection {
  return { file: ref.table.file, fileName: publishedFileName(ref.table), kind: ref.table.kind, fixedKey: ref.fixedKey, rows };
}

/** The report's section: every classification cell in the dataset's own language with a headline value. */
export function buildPublishedSection(t: AccuracyTable, ref: PublishedReference, rowLabel: (i: number) => string): PublishedSection {
  return publishedSection(
    ref,
    t.rows.map((r, i) =>
      publishedSectionRow(
        ref,
        r.model,
        rowLabel(i),
        // published tables are for the datasets' own (English) names and templates: none beside a run in another language
        r.cells.flatMap((c, j) => (c && c.headlineValue !== null && c.language === null ? [{ label: t.columns[j], dataset: t.columnDatasets[j], ours: 100 * c.headlineValue, metric: c.headline }] : [])),
      ),
    ),
  );
}

const f2 = (x: number | null) => (x === null ? '–' : x.toFixed(2));
const deltaText = (c: PublishedSectionCell) => (c.delta === null ? `not subtracted: ${c.why}` : signed(c.delta));

/** Markdown lines: a heading, the rows without a published row, one table line per compared cell. */
export function publishedSectionMarkdown(s: PublishedSection): string[] {
  const protocols = [...new Set(s.rows.flatMap((r) => r.cells.map((c) => c.published.protocol)))];
  const lines = s.rows.flatMap((r) =>
    r.cells.map((c) => `| ${r.label} | ${c.label} | ${c.metric} | ${f2(c.ours)} | ${f2(c.published.value)} | ${deltaText(c)} | ${c.published.source} | ${c.published.note ?? ''} |`),
  );
  return [
    `### Against published results: ${s.fileName}${s.fixedKey ? `, row ${s.fixedKey} for every model` : ', each model\'s own row'}`,
    '',
    ...(protocols.length ? [`Protocol of the published numbers: ${protocols.join('; ')}. Their fractions are shown ×100; Δ = ours − theirs in points, only where the protocols are comparable.`, ''] : []),
    ...s.rows.filter((r) => r.missing).map((r) => `- ${r.label}: ${r.missing}`),
    ...(s.rows.some((r) => r.missing) ? [''] : []),
    ...(lines.length
      ? ['| model | dataset | metric | ours | published | Δ points | source | note |', '|---|---|---|---:|---:|---|---|---|', ...lines, '']
      : s.rows.some((r) => !r.missing)
        ? [`None of these datasets is in ${s.fileName}.`, '']
        : []),
  ];
}

/** Long format, one line per compared cell (models without a row have none). */
export function publishedSectionCsv(s: PublishedSection): string {
  const head = 'model,published_row,dataset,metric,ours,published,delta_points,comparable,not_subtracted_because,source,protocol,note';
  const lines = s.rows.flatMap((r) =>
    r.cells.map((c) =>
      [r.model, r.key ?? '', c.label, c.metric, c.ours, c.published.value ?? '', c.delta ?? '', c.published.comparable, c.why ?? '', c.published.source, c.published.protocol, c.published.note ?? '']
        .map((v) => csvField(String(v)))
        .join(','),
    ),
  );
  return [head, ...lines].join('\n') + '\n';
}

/** The HTML section: one table, Δ only where comparable, the note and source on every borrowed number. */
export function publishedSectionHtml(s: PublishedSection): string {
  const md = publishedSectionMarkdown(s);
  const protocol = md.find((l) => l.startsWith('Protocol of the published numbers'));
  const rows = s.rows.flatMap((r) =>
    r.cells.map(
      (c) =>
        `<tr><td>${esc(r.label)}</td><td>${esc(c.label)}</td><td>${esc(c.metric)}</td><td class="num">${f2(c.ours)}</td><td class="num">${f2(c.published.value)}</td><td class="num">${
          c.delta === null ? `<span class="muted">not subtracted: ${esc(c.why ?? '')}</span>` : esc(signed(c.delta))
        }</td><td><code>${esc(c.published.source)}</code></td><td class="muted">${esc(c.published.note ?? '')}</td></tr>`,
    ),
  );
  return [
    `<h2>Against published results: ${esc(s.fileName)}</h2>`,
    ...(protocol ? [`<p class="muted">${esc(protocol)}</p>`] : []),
    ...s.rows.filter((r) => r.missing).map((r) => `<p>${esc(r.label)}: ${esc(r.missing!)}</p>`),
    ...(rows.length
      ? ['<div class="scroll"><table class="published"><tr><th>model</th><th>dataset</th><th>metric</th><th class="num">ours</th><th class="num">published</th><th class="num">Δ points</th><th>source</th><th>note</th></tr>', ...rows, '</table></div>']
      : []),
  ].join('\n');
}
