/**
 * The matrix as HTML, transposed so that many models fit a 1400 px page: datasets as rows (short labels,
 * legend below), models as columns under rotated headers, each cell the headline value with n and Δ to its
 * reference on a diverging background (blue above, red below, white at 0; uncoloured without a comparable
 * reference). Pure: a {@link MatrixView} in, HTML lines out.
 */
import { cellSampleText, signed, type SuiteMean, type TableCell } from './accuracy-table.js';
import { deltaColour, DELTA_COLOURS, type MatrixCell, type MatrixView } from './matrix.js';
import { escapeXml as esc } from './plots.js';

const METRIC_SHORT: Record<string, string> = { top1: 'top-1', 'mean-per-class-recall': 'mpc', 'mean-top1-top5': 'top-1,5', 'roc-auc': 'AUC', 'map-11pt': 'mAP' };
const METRIC_NAME: Record<string, string> = {
  top1: 'top-1 accuracy',
  'mean-per-class-recall': 'mean per-class recall',
  'mean-top1-top5': 'mean of top-1 and top-5',
  'roc-auc': 'ROC AUC',
  'map-11pt': '11-point mAP',
};

/** "n=30", or "n=30*" for a part of the split (the full reason in the cell's title). */
function sampleMark(c: TableCell): string {
  return c.partial ? `n=${c.n}*` : `n=${c.n}`;
}

function cellTitle(m: MatrixCell, model: string, column: string): string {
  const c = m.cell;
  const parts = [`${model} on ${column}`, `run ${c.runId}`, `top-1 ${(100 * c.top1).toFixed(2)}`, ...(c.top5 === null ? [] : [`top-5 ${(100 * c.top5).toFixed(2)}`]), cellSampleText(c)];
  if (c.nFailed) parts.push(`${c.nFailed} failed${c.failuresExcluded ? ', excluded' : ', counted as wrong'}`);
  const r = m.reference;
  if (r) parts.push(`${r.source}: ${r.value.toFixed(1)}${r.comparable ? '' : ' (not comparable, not subtracted)'}${r.note ? ` (${r.note})` : ''}`);
  return parts.join(' · ');
}

function cellHtml(m: MatrixCell | null, view: MatrixView, model: string, column: string): string {
  if (!m) return '<td class="num muted" title="no finished run">–</td>';
  const r = m.reference;
  const value = m.ours === null ? `n/a` : m.ours.toFixed(1);
  const mark = r?.note ? `<span class="note-mark" title="${esc(r.note)}">*</span>` : '';
  const ref = !r ? '' : m.delta !== null ? `<span class="d">Δ ${signed(m.delta, 1)}${m.flagged ? ' ⚠' : ''}${mark}</span>` : `<span class="d">ref ${r.value.toFixed(1)} ≠${mark}</span>`;
  const fails = m.cell.nFailed ? `<span class="n flag">${m.cell.nFailed} failed</span>` : '';
  const style = m.delta === null ? '' : ` style="background: ${deltaColour(m.delta, view.scale)}" data-delta="${m.delta}"`;
  return `<td class="num cell${m.flagged ? ' flag' : ''}"${style} title="${esc(cellTitle(m, model, column))}">${value}<span class="n${m.cell.partial ? ' flag' : ''}">${esc(sampleMark(m.cell))}</span>${ref}${fails}</td>`;
}

function meanHtml(s: SuiteMean, view: MatrixView, hasReference: boolean): string {
  if (s.mean === null) return '<td class="num suite muted">n/a</td>';
  const delta = s.paper === null || s.paper === undefined ? null : s.mean - s.paper;
  const style = delta === null ? '' : ` style="background: ${deltaColour(delta, view.scale)}" data-delta="${Math.round(delta * 1e9) / 1e9}"`;
  const ref = !hasReference ? '' : delta === null ? '<span class="d">ref: n/a</span>' : `<span class="d">Δ ${signed(delta, 1)}</span>`;
  const title = `the plain mean over ${s.datasets.length} dataset${s.datasets.length === 1 ? '' : 's'}: ${s.datasets.join(', ')}${s.paper !== null && s.paper !== undefined ? `; the reference's over the same ${s.paper.toFixed(2)}` : ''}`;
  return `<td class="num suite"${style} title="${esc(title)}">${s.mean.toFixed(1)}<span class="n">${s.datasets.length} ds</span>${ref}</td>`;
}

/** A model's name on two lines where it is Immich's `ARCH__pretrained-tag`, so the rotated header stays short. */
function modelHeader(label: string): string {
  const at = label.indexOf('__');
  return at < 0 ? esc(label) : `${esc(label.slice(0, at + 2))}<br>${esc(label.slice(at + 2))}`;
}

/** The colour scale's legend: a gradient from −scale to +scale points, what the colours mean, what is uncoloured. */
function scaleLegend(view: MatrixView): string {
  const [b, a] = [DELTA_COLOURS.below, DELTA_COLOURS.above].map((c) => `rgb(${c.join(', ')})`);
  return [
    '<div class="scale-legend" data-legend="delta">',
    `<span>Δ = ours − reference, in points:</span>`,
    `<span class="scale-end">${signed(-view.scale, 0)}</span><span class="scale-bar" style="background: linear-gradient(to right, ${b}, #fff, ${a})"></span><span class="scale-end">${signed(view.scale, 0)}</span>`,
    `<span class="muted">red: below the reference, blue: above; full colour at ±${view.scale} points and beyond; ⚠ beyond ±${view.tolerance}; uncoloured: no comparable reference.</span>`,
    '</div>',
  ].join('');
}

/** The matrix table with its legends (colour scale, dataset labels, references used). */
export function matrixHtml(view: MatrixView, suite: readonly SuiteMean[], opts: { hasReference: boolean }): string[] {
  const head = `<tr><th class="ds">dataset</th><th class="metric">metric</th>${view.models.map((m) => `<th class="model" title="${esc(`${m.label} · fingerprint ${m.row.fingerprint.slice(0, 12)}`)}"><div>${modelHeader(m.label)}</div></th>`).join('')}</tr>`;
  const rows = view.datasets.map((d, j) => {
    const metric = view.cells[j].find((c) => c)?.cell.headline ?? 'top1';
    return `<tr><th class="ds" title="${esc(`${d.name}: ${d.column}`)}">${esc(d.short)}</th><td class="metric" title="${esc(METRIC_NAME[metric] ?? metric)}">${esc(METRIC_SHORT[metric] ?? metric)}</td>${view.cells[j].map((c, i) => cellHtml(c, view, view.models[i].label, d.column)).join('')}</tr>`;
  });
  const mean = `<tr class="mean"><th class="ds" title="the suite mean, the paper's way: each dataset once">mean</th><td class="metric">—</td>${suite.map((s) => meanHtml(s, view, opts.hasReference)).join('')}</tr>`;
  const used = [...new Map(view.datasets.map((d) => [d.short, d])).values()];
  const sources = [...new Set(view.cells.flat().flatMap((c) => (c?.reference ? [c.reference.legend ?? c.reference.source] : [])))];
  return [
    '<div class="matrix-wrap"><table class="matrix">',
    `<thead>${head}</thead>`,
    '<tbody>',
    ...rows,
    mean,
    '</tbody></table></div>',
    ...(sources.length ? [scaleLegend(view)] : []),
    `<p class="legend" data-legend="datasets"><strong>Datasets:</strong> ${used.map((d) => `<span><abbr title="${esc(d.column)}">${esc(d.short)}</abbr> ${esc(d.short === d.column ? d.name : `${d.name}${d.column.slice(d.dataset.length)}`)}</span>`).join(' · ')}</p>`,
    `<p class="legend" data-legend="metrics"><strong>Metrics:</strong> ${[...new Set(view.cells.flat().flatMap((c) => (c ? [c.cell.headline] : [])))].map((m) => `${esc(METRIC_SHORT[m] ?? m)} ${esc(METRIC_NAME[m] ?? m)}`).join(' · ')}. n: samples scored (* a part of the split). Hover a cell for its run, top-1 / top-5 and the reference's source.</p>`,
    ...(sources.length ? [`<p class="legend" data-legend="references"><strong>References:</strong> ${sources.map(esc).join('; ')}. * marks a reference with a note (hover it); ≠ a reference of another protocol, shown but not subtracted.</p>`] : []),
  ];
}
