/**
 * The report's retrieval section, pure: one retrieval run (a view of it, whatever store it came from) →
 * Markdown, CSV rows, a JSON-able object and an HTML fragment in the report page's styles.
 *
 * Directions are named in words, because CLIP_benchmark's names read backwards: `text_retrieval_*` is
 * image→text (each image queries the captions), `image_retrieval_*` is text→image (each caption queries the
 * images). Recalls are stored as fractions and shown in percent; ranks are 1-based.
 */
import { csvField, referenceCell, signed, type ReferenceCell } from './accuracy-table.js';
import { escapeXml as esc } from './plots.js';
import type { RetrievalReferenceCell } from './retrieval-paper.js';

export type RetrievalDirection = 'image→text' | 'text→image';

/** What the section needs of one retrieval run. */
export interface RetrievalRunView {
  runId?: number;
  /** model label, e.g. "ViT-L-14-336 fp16 (1a2b3c4d)" */
  model: string;
  dataset: string;
  /** how the report names the dataset root (a column's root label) */
  rootLabel: string;
  split: string;
  nImages: number;
  nCaptions: number;
  /** images listed but not decoded, each with its reason */
  failedImages: readonly { key: string; reason: string }[];
  /** how the failed images' queries count: misses at their worst rank (default), or left out (excludeFailures) */
  failureRule?: 'miss' | 'exclude';
  /** the prefix put before every caption; undefined where the run does not say */
  captionPrefix?: string;
  /** a multilingual dataset's caption language (`params.language`) */
  language?: string;
  /** retrieval-metrics.ts' names → values: recalls as fractions, ranks 1-based */
  metrics: Readonly<Record<string, number>>;
  /**
   * the paper's cells for a reference model (`retrievalReferenceCells`), the split it measured and that split's
   * size, and the ±points tolerance (default 1); `retrievalReference` fills it
   */
  reference?: { model: string; cells: readonly RetrievalReferenceCell[]; split?: string; counts?: { images: number; captions: number }; tolerance?: number };
}

export interface RetrievalSectionRow {
  direction: RetrievalDirection | 'both';
  /** retrieval-metrics.ts' name */
  metric: string;
  /** "R@5", "mean rank", "median rank", "mean R@1" */
  label: string;
  /** as stored: a fraction for recalls, a 1-based rank for ranks; null where the run lacks it */
  value: number | null;
  /** the paper's cell beside ours (recalls only, with a reference) */
  reference: ReferenceCell | null;
}

/** The paper prepends this to every caption (+1–2 points of R@1). */
export const PAPER_CAPTION_PREFIX = 'a photo of ';

const DIRECTIONS: readonly { direction: RetrievalDirection; prefix: string }[] = [
  { direction: 'image→text', prefix: 'text_retrieval' },
  { direction: 'text→image', prefix: 'image_retrieval' },
];

/** The recall cut-offs the metrics hold, ascending; each must be there for both directions. */
export function recallCutoffs(metrics: Readonly<Record<string, number>>): number[] {
  const ks = new Set<number>();
  for (const name of Object.keys(metrics)) {
    const m = /^(?:text|image)_retrieval_recall@(\d+)$/.exec(name);
    if (m) ks.add(Number(m[1]));
  }
  const sorted = [...ks].sort((a, b) => a - b);
  for (const k of sorted) {
    for (const { prefix } of DIRECTIONS) {
      if (!Object.hasOwn(metrics, `${prefix}_recall@${k}`)) throw new RangeError(`retrieval metrics have recall@${k} for one direction only: ${prefix}_recall@${k} is missing`);
    }
  }
  if (sorted.length === 0) throw new RangeError('retrieval metrics hold no recall@k');
  return sorted;
}

/**
 * The section's rows: per direction (image→text first, as the paper's Table 13) each R@k, then mean and
 * median rank; last `mean_recall@1`. With a reference, each recall the paper has carries its cell.
 */
export function retrievalSectionRows(v: RetrievalRunView): RetrievalSectionRow[] {
  const paper = new Map((v.reference?.cells ?? []).map((c) => [c.metric, c]));
  const tolerance = v.reference?.tolerance ?? 1;
  const value = (metric: string) => (Object.hasOwn(v.metrics, metric) ? v.metrics[metric] : null);
  const rows: RetrievalSectionRow[] = [];
  const ks = recallCutoffs(v.metrics);
  for (const { direction, prefix } of DIRECTIONS) {
    for (const k of ks) {
      const metric = `${prefix}_recall@${k}`;
      const p = paper.get(metric);
      rows.push({ direction, metric, label: `R@${k}`, value: value(metric), reference: v.reference && p ? referenceCell(v.metrics[metric], p, tolerance) : null });
    }
    rows.push({ direction, metric: `${prefix}_mean_rank`, label: 'mean rank', value: value(`${prefix}_mean_rank`), reference: null });
    rows.push({ direction, metric: `${prefix}_median_rank`, label: 'median rank', value: value(`${prefix}_median_rank`), reference: null });
  }
  rows.push({ direction: 'both', metric: 'mean_recall@1', label: 'mean R@1', value: value('mean_recall@1'), reference: null });
  return rows;
}

const isRank = (r: RetrievalSectionRow) => r.metric.endsWith('_rank');
/** Ours as shown: recalls in percent with 2 decimals, mean rank with 2, median rank whole. */
export function rowValueText(r: RetrievalSectionRow): string {
  if (r.value === null) return '—';
  if (r.metric.endsWith('_median_rank')) return String(r.value);
  return isRank(r) ? r.value.toFixed(2) : (100 * r.value).toFixed(2);
}

const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/**
 * What a reader must know besides the numbers: failed images and how they count, and, with a reference,
 * where our setting is not the paper's (split, caption prefix) or the paper has no number.
 */
export function retrievalNotes(v: RetrievalRunView): string[] {
  const notes: string[] = [];
  const nFailed = v.failedImages.length;
  if (nFailed) {
    notes.push(
      v.failureRule === 'exclude'
        ? `${count(nFailed, 'image')} failed to decode and ${nFailed === 1 ? 'is' : 'are'} left out, with ${nFailed === 1 ? 'its' : 'their'} captions, of both directions.`
        : `${count(nFailed, 'image')} failed to decode: ${nFailed === 1 ? 'it counts' : 'they count'} as image→text misses and ${nFailed === 1 ? 'its' : 'their'} captions as text→image misses.`,
    );
  }
  const ref = v.reference;
  if (ref) {
    if (ref.cells.length === 0) notes.push(`The paper's Table 13 has no ${ref.model} number for ${v.dataset}.`);
    else {
      if (ref.split !== undefined && ref.split !== v.split) notes.push(`The paper's numbers are on the ${ref.split} split; this run is on ${v.split}: not like for like.`);
      else if (ref.counts && (ref.counts.images !== v.nImages || ref.counts.captions !== v.nCaptions)) {
        notes.push(`The paper's numbers are on all ${retrievalCountsText({ nImages: ref.counts.images, nCaptions: ref.counts.captions })} of the ${v.split} split; this run has ${retrievalCountsText(v)}: not like for like.`);
      }
      if (v.captionPrefix !== undefined && v.captionPrefix !== PAPER_CAPTION_PREFIX) {
        notes.push(`The paper prepends "${PAPER_CAPTION_PREFIX}" to every caption; this run used ${v.captionPrefix ? `"${v.captionPrefix}"` : 'none'} (pass --caption-prefix "${PAPER_CAPTION_PREFIX}" to reproduce the paper).`);
      }
      if (ref.cells.some((c) => !c.verified)) notes.push('* unverified paper cell: read in secondary sources, still to be checked against the paper\'s Table 13.');
    }
  }
  return notes;
}

const paperText = (x: ReferenceCell | null) => (x?.paper === null || !x ? '—' : `${x.paper.toFixed(1)}${x.verified ? '' : '*'}`);
const deltaText = (x: ReferenceCell | null) => (x?.delta === null || !x ? '—' : `${signed(x.delta)}${x.flagged ? ' ⚠' : ''}`);

/** "flickr30k (ROOT) / test — MODEL (run 3)" */
export function retrievalTitle(v: RetrievalRunView): string {
  return `${v.dataset} (${v.rootLabel}) / ${v.split}${v.language ? ` in ${v.language}` : ''} — ${v.model}${v.runId === undefined ? '' : ` (run ${v.runId})`}`;
}

/** "1,000 images, 5,000 captions" */
export function retrievalCountsText(v: Pick<RetrievalRunView, 'nImages' | 'nCaptions'>): string {
  return `${count(v.nImages, 'image')}, ${count(v.nCaptions, 'caption')}`;
}

const LEGEND = 'image→text: each image queries the captions (CLIP_benchmark\'s text_retrieval_*); text→image: each caption queries the images (image_retrieval_*). Recalls in %, ranks 1-based (1 = the first positive is the top result).';

export function retrievalSectionMarkdown(v: RetrievalRunView, opts: { failedListed?: number } = {}): string {
  const rows = retrievalSectionRows(v);
  const ref = v.reference;
  const head = ref ? ['direction', 'metric', 'ours', `paper ${ref.model}`, 'Δ'] : ['direction', 'metric', 'ours'];
  const lines = [
    `#### Retrieval: ${retrievalTitle(v)}`,
    '',
    `${retrievalCountsText(v)}${v.failedImages.length ? `, ${v.failedImages.length} failed` : ''}.`,
    '',
    `| ${head.join(' | ')} |`,
    `|---|---|${head.slice(2).map(() => '---:').join('|')}|`,
    ...rows.map((r) => `| ${[r.direction, r.label, rowValueText(r), ...(ref ? [paperText(r.reference), deltaText(r.reference)] : [])].join(' | ')} |`),
    '',
    LEGEND,
  ];
  if (ref && rows.some((r) => r.reference?.flagged)) lines.push(`⚠ marks a delta beyond ±${ref.tolerance ?? 1} points.`);
  lines.push(...retrievalNotes(v));
  const listed = opts.failedListed ?? 10;
  if (v.failedImages.length) {
    lines.push('', 'Failed images:', ...v.failedImages.slice(0, listed).map((f) => `- ${f.key}: ${f.reason}`));
    if (v.failedImages.length > listed) lines.push(`- … and ${v.failedImages.length - listed} more`);
  }
  return lines.join('\n');
}

/** The CSV header: one line per metric of a run (long format, like the classification CSV). */
export function retrievalCsvHeader(withReference: boolean): string {
  return [
    'model,dataset,root,split,run_id,n_images,n_captions,n_failed_images,direction,metric,value',
    ...(withReference ? ['paper_model,paper,paper_verified,delta_points,beyond_tolerance'] : []),
  ].join(',');
}

/** The run's CSV lines under {@link retrievalCsvHeader}: values as stored (fractions, ranks); paper in percent. */
export function retrievalCsvRows(v: RetrievalRunView, withReference: boolean = v.reference !== undefined): string[] {
  return retrievalSectionRows(v).map((r) => {
    const fields: unknown[] = [v.model, v.dataset, v.rootLabel, v.split, v.runId ?? '', v.nImages, v.nCaptions, v.failedImages.length, r.direction, r.metric, r.value ?? ''];
    if (withReference) {
      const x = r.reference;
      fields.push(v.reference?.model ?? '', x?.paper ?? '', x?.verified ?? '', x?.delta ?? '', x && x.paper !== null ? x.flagged : '');
    }
    return fields.map((f) => csvField(String(f))).join(',');
  });
}

/** Every run's rows under one header; the paper columns appear when some run has a reference. */
export function retrievalCsv(views: readonly RetrievalRunView[]): string {
  const withReference = views.some((v) => v.reference !== undefined);
  return [retrievalCsvHeader(withReference), ...views.flatMap((v) => retrievalCsvRows(v, withReference))].join('\n') + '\n';
}

/** The section as a JSON-able object (snake_case counts, as `eval --json`). */
export function retrievalSectionJson(v: RetrievalRunView) {
  return {
    task: 'retrieval' as const,
    runId: v.runId ?? null,
    model: v.model,
    dataset: v.dataset,
    root: v.rootLabel,
    split: v.split,
    ...(v.language ? { language: v.language } : {}),
    n_images: v.nImages,
    n_captions: v.nCaptions,
    n_failed_images: v.failedImages.length,
    failed_images: v.failedImages.map((f) => ({ key: f.key, reason: f.reason })),
    failure_rule: v.failureRule ?? 'miss',
    metrics: { ...v.metrics },
    rows: retrievalSectionRows(v).map((r) => ({
      direction: r.direction,
      metric: r.metric,
      label: r.label,
      value: r.value,
      ...(r.reference ? { paper: r.reference.paper, paper_verified: r.reference.verified, delta_points: r.reference.delta, beyond_tolerance: r.reference.flagged } : {}),
    })),
    reference: v.reference ? { model: v.reference.model, tolerance: v.reference.tolerance ?? 1, split: v.reference.split ?? null } : null,
    notes: retrievalNotes(v),
  };
}

function paperHtml(x: ReferenceCell | null): string {
  if (!x || x.paper === null || x.delta === null) return '<td class="num muted">—</td><td class="num muted">—</td>';
  const unverified = x.verified ? '' : '<span class="badge" title="read in secondary sources, not yet checked against the paper">unverified</span>';
  return `<td class="num">${x.paper.toFixed(1)}${unverified}</td><td class="num${x.flagged ? ' flag' : ''}">${esc(signed(x.delta))}${x.flagged ? ' ⚠' : ''}</td>`;
}

/** The section as an HTML fragment for the report page (its CSS classes: num, muted, badge, flag; no script). */
export function retrievalSectionHtml(v: RetrievalRunView): string {
  const rows = retrievalSectionRows(v);
  const ref = v.reference;
  const head = `<tr><th>direction</th><th>metric</th><th class="num">ours</th>${ref ? `<th class="num">paper ${esc(ref.model)}</th><th class="num">Δ points</th>` : ''}</tr>`;
  const body = rows.map((r) => `<tr><td>${esc(r.direction)}</td><td title="${esc(r.metric)}">${esc(r.label)}</td><td class="num">${esc(rowValueText(r))}</td>${ref ? paperHtml(r.reference) : ''}</tr>`);
  const failed = v.failedImages.length
    ? [`<details><summary>Failed images (${v.failedImages.length})</summary><ul>`, ...v.failedImages.map((f) => `<li><code>${esc(f.key)}</code>: ${esc(f.reason)}</li>`), '</ul></details>']
    : [];
  return [
    `<section class="retrieval" data-dataset="${esc(v.dataset)}">`,
    `<h3>Retrieval: ${esc(retrievalTitle(v))}</h3>`,
    `<p class="muted">${esc(retrievalCountsText(v))}${v.failedImages.length ? `, ${v.failedImages.length} failed` : ''}. ${esc(LEGEND)}</p>`,
    '<table class="retrieval">',
    head,
    ...body,
    '</table>',
    ...retrievalNotes(v).map((n) => `<p class="muted">${esc(n.replace(/^\* unverified paper cell/, '"unverified": a paper cell'))}</p>`),
    ...failed,
    '</section>',
  ].join('\n');
}

/**
 * `eval --reference`'s lines: each recall the paper has, ours beside the paper's cell and the delta, then the
 * notes (another split, a partial run, another caption prefix; no Table 13 row for the model: one line).
 */
export function retrievalReferenceLines(v: RetrievalRunView): string[] {
  const ref = v.reference;
  if (!ref) return [];
  if (ref.cells.length === 0) return retrievalNotes(v).map((n) => `  ${n}`);
  const rows = retrievalSectionRows(v).filter((r) => r.reference && r.reference.paper !== null);
  return [
    `  paper ${ref.model} (Table 13), ours vs paper:`,
    ...rows.map((r) => {
      const x = r.reference!;
      return `  ${r.direction}  ${r.label.padEnd(5)} ours ${rowValueText(r).padStart(6)}%   paper ${`${x.paper!.toFixed(1)}%${x.verified ? '' : '*'}`.padStart(6)}   Δ ${signed(x.delta!)} points${x.flagged ? ' ⚠' : ''}`;
    }),
    ...(rows.some((r) => r.reference!.flagged) ? [`  ⚠ marks a delta beyond ±${ref.tolerance ?? 1} points.`] : []),
    ...retrievalNotes(v).map((n) => `  ${n}`),
  ];
}

/** `eval --json --reference`'s `reference` field: the recalls beside the paper's cells, and the notes. */
export function retrievalReferenceJson(v: RetrievalRunView) {
  const ref = v.reference;
  if (!ref) return null;
  const cells = retrievalSectionRows(v)
    .filter((r) => r.reference && r.reference.paper !== null)
    .map((r) => ({ direction: r.direction, metric: r.metric, ours: r.reference!.ours, paper: r.reference!.paper, paper_verified: r.reference!.verified, delta_points: r.reference!.delta, beyond_tolerance: r.reference!.flagged }));
  return { model: ref.model, tolerance: ref.tolerance ?? 1, split: ref.split ?? null, cells, notes: retrievalNotes(v) };
}
