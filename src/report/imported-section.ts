/**
 * `report`'s section of imported results (`clip-bench import`): CLIP_benchmark's numbers, grouped by the
 * file they came from, always labelled "imported, not measured here" and never mixed into the table of
 * our runs. Markdown, CSV, JSON and the HTML fragment.
 */
import type { ImportedRecord } from '../interop/clip-benchmark-read.js';
import type { ImportedRow } from '../store/imported.js';
import { csvField } from './accuracy-table.js';

export const IMPORTED_LABEL = 'imported, not measured here';

/** A record as the file gave it (clip-benchmark-read.ts), its metrics by name: fractions, null for NaN, in the file's order. */
export type ImportedResult = Omit<ImportedRecord, 'row' | 'metrics'> & { metrics: Record<string, number | null> };

export interface ImportedSource {
  sourceFile: string;
  sha256: string;
  format: ImportedRow['format'];
  importedAt: string;
  results: ImportedResult[];
}

export interface ImportedSection {
  label: typeof IMPORTED_LABEL;
  sources: ImportedSource[];
}

/** Groups the stored values (store/imported.ts listImported order) into results per source file; null when none. */
export function buildImportedSection(rows: readonly ImportedRow[]): ImportedSection | null {
  if (rows.length === 0) return null;
  const sources = new Map<string, ImportedSource>();
  const results = new Map<string, ImportedResult>();
  for (const r of rows) {
    const src = sources.get(r.sourceFile) ?? { sourceFile: r.sourceFile, sha256: r.sha256, format: r.format, importedAt: r.importedAt, results: [] };
    sources.set(r.sourceFile, src);
    const key = `${r.sourceFile}\u0000${r.row}`;
    let res = results.get(key);
    if (!res) {
      res = { theirDataset: r.theirDataset, dataset: r.dataset, note: r.note, model: r.model, pretrained: r.pretrained, task: r.task, language: r.language, metrics: {} };
      results.set(key, res);
      src.results.push(res);
    }
    res.metrics[r.metric] = r.value;
  }
  return { label: IMPORTED_LABEL, sources: [...sources.values()] };
}

const pct = (v: number | null) => (v === null ? 'NaN' : (100 * v).toFixed(2));
const metricsText = (m: ImportedResult['metrics']) => Object.entries(m).map(([k, v]) => `${k} ${pct(v)}`).join(', ');
const datasetText = (r: ImportedResult) => (r.dataset === null ? `${r.theirDataset} (not mapped to a clip-bench dataset)` : r.dataset === r.theirDataset ? r.dataset : `${r.theirDataset} → ${r.dataset}`);
const formatName = (f: ImportedSource['format']) => (f === 'clip_benchmark_json' ? 'CLIP_benchmark result JSON' : "CLIP_benchmark's benchmark.csv");
const mdCell = (s: string) => s.replaceAll('|', '\\|');

export function importedSectionMarkdown(s: ImportedSection | null): string[] {
  if (!s) return [];
  const out = [`### Imported results (${IMPORTED_LABEL})`, '', 'Numbers read by `clip-bench import` from the files below, as they give them (percent here); not measured by clip-bench, and not in the table of runs measured here.', ''];
  for (const src of s.sources) {
    out.push(`From \`${src.sourceFile}\` (${formatName(src.format)}, sha256 ${src.sha256.slice(0, 12)}, imported ${src.importedAt.slice(0, 19).replace('T', ' ')} UTC):`, '');
    out.push('| dataset | model | pretrained | task | language | metrics (%) | note |', '|---|---|---|---|---|---|---|');
    for (const r of src.results) out.push(`| ${[datasetText(r), r.model, r.pretrained, r.task, r.language ?? 'not given', metricsText(r.metrics), r.note ?? ''].map(mdCell).join(' | ')} |`);
    out.push('');
  }
  return out;
}

/** Long format, one line per value, fractions as imported; every line says it is imported and from where. */
export function importedSectionCsv(s: ImportedSection): string {
  const lines = ['provenance,source_file,sha256,their_dataset,dataset,model,pretrained,task,language,metric,value,note'];
  for (const src of s.sources) {
    for (const r of src.results) {
      for (const [metric, value] of Object.entries(r.metrics)) {
        lines.push([IMPORTED_LABEL, src.sourceFile, src.sha256, r.theirDataset, r.dataset ?? '', r.model, r.pretrained, r.task, r.language ?? '', metric, value === null ? 'nan' : value, r.note ?? ''].map((v) => csvField(String(v))).join(','));
      }
    }
  }
  return lines.join('\n') + '\n';
}

export function importedSectionHtml(s: ImportedSection | null, esc: (x: string) => string): string[] {
  if (!s) return [];
  const out = [`<section id="imported"><h2>Imported results <span class="flag">${IMPORTED_LABEL}</span></h2>`, '<p class="muted">Read by <code>clip-bench import</code> from the files below, as they give them (percent here); not measured by clip-bench, and not in the table of our runs.</p>'];
  for (const src of s.sources) {
    out.push(`<h3>From <code>${esc(src.sourceFile)}</code></h3><p class="muted">${esc(formatName(src.format))}, sha256 ${esc(src.sha256.slice(0, 12))}, imported ${esc(src.importedAt.slice(0, 19).replace('T', ' '))} UTC</p>`);
    out.push('<table class="imported"><tr><th>dataset</th><th>model</th><th>pretrained</th><th>task</th><th>language</th><th>metrics (%)</th><th>note</th></tr>');
    for (const r of src.results) out.push(`<tr>${[datasetText(r), r.model, r.pretrained, r.task, r.language ?? 'not given', metricsText(r.metrics), r.note ?? ''].map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`);
    out.push('</table>');
  }
  out.push('</section>');
  return out;
}
