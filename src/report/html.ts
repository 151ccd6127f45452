/**
 * The HTML pages: the report and a comparison, each one self-contained file — inline CSS and inline SVG,
 * no script and no external request — that reads at a glance and prints. Pure: data in, a string out.
 */
import type { Ablation } from './ablation.js';
import { ablationTitle } from './ablation.js';
import { rowLabel, signed, versionsText, type ReferenceCell } from './accuracy-table.js';
import { matrixView, paperReferences, publishedReferences, type CellReferences } from './matrix.js';
import { matrixHtml } from './matrix-html.js';
import { comparisonTitle, type RunComparison } from './compare.js';
import { costSectionHtml } from './cost-plot.js';
import { importedSectionHtml } from './imported-section.js';
import { reportGroupsHtml } from './group-averages.js';
import { classDeltaPlot, escapeXml as esc, oursVsPaperPlot, reliabilityDiagram } from './plots.js';
import { unrankedRetrievalNote, type ReportData, type RunDetails } from './report-data.js';
import type { StoredRetrievalComparison } from './retrieval-runs.js';
import { languageTablesHtml } from './language-table.js';
import { publishedSectionHtml } from './published-section.js';
import { retrievalSectionHtml } from './retrieval-section.js';
import { unfinishedLine } from './run-list.js';

const CSS = `
:root { color-scheme: light; --ink: #1d1d1f; --muted: #666; --line: #ddd; --flag: #c8553d; --ok: #2e8b57; --soft: #f6f7f9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0 auto; padding: 24px; max-width: 1400px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.muted { color: var(--muted); } .answer { font-size: 16px; background: var(--soft); border-left: 4px solid #3b6fb6; padding: 8px 12px; margin: 12px 0; }
table { border-collapse: collapse; margin: 6px 0 12px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 4px 8px; vertical-align: top; }
th { background: var(--soft); text-align: left; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
table.groups th.group { white-space: normal; max-width: 11em; vertical-align: bottom; }
.flag { color: var(--flag); font-weight: 600; } .ok { color: var(--ok); }
.badge { display: inline-block; font-size: 11px; padding: 0 5px; border-radius: 8px; border: 1px solid currentColor; margin-left: 4px; }
.sub { display: block; font-size: 12px; color: var(--muted); }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
details { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 0 10px; }
details[open] { padding-bottom: 10px; } summary { cursor: pointer; padding: 8px 0; font-weight: 600; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
svg { max-width: 100%; height: auto; display: block; }
.scroll { overflow-x: auto; }
figure { margin: 0 0 8px; }
table.provenance { font-size: 12px; } table.provenance td { white-space: nowrap; }
.matrix-wrap { overflow-x: auto; }
table.matrix { font-size: 13px; }
table.matrix th, table.matrix td { padding: 2px 5px; }
table.matrix th.model { vertical-align: bottom; text-align: left; font-weight: 600; }
table.matrix th.model > div { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; max-height: 260px; overflow: hidden; text-overflow: ellipsis; line-height: 1.25; }
table.matrix th.ds { white-space: nowrap; } table.matrix td.metric { font-size: 11px; color: var(--muted); white-space: nowrap; }
table.matrix td.cell, table.matrix td.suite { line-height: 1.2; min-width: 64px; }
table.matrix .n, table.matrix .d { display: block; font-size: 10.5px; color: #333; }
table.matrix .n { color: var(--muted); }
table.matrix td.flag { color: var(--ink); font-weight: 400; } table.matrix td.flag .d { font-weight: 700; }
table.matrix tr.mean { border-top: 2px solid var(--ink); }
.note-mark { font-weight: 700; margin-left: 1px; }
.scale-legend { display: flex; align-items: center; gap: 6px; flex-wrap: wrap; font-size: 12px; margin: 4px 0; }
.scale-bar { display: inline-block; width: 160px; height: 12px; border: 1px solid var(--line); }
.scale-end { font-variant-numeric: tabular-nums; }
p.legend { font-size: 12px; margin: 4px 0; } p.legend span { white-space: nowrap; }
abbr { text-decoration: none; font-weight: 600; }
`;

function page(title: string, body: string[]): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const pct = (x: number | null) => (x === null || Number.isNaN(x) ? 'n/a' : (100 * x).toFixed(2));
const num = (x: string) => `<td class="num">${x}</td>`;

/** The one-paragraph answer to "did I reproduce the paper?" (with a reference) or a summary of the table. */
function answer(d: ReportData): string {
  const t = d.table;
  const cells = t.rows.flatMap((r) => r.cells.filter(Boolean)).length;
  if (!d.reference) return `${t.rows.length} model${t.rows.length === 1 ? '' : 's'} × ${t.columns.length} dataset column${t.columns.length === 1 ? '' : 's'}, ${cells} result${cells === 1 ? '' : 's'}. Add <code>--reference ViT-B/32</code> (or another paper model) to see the paper's numbers beside ours.`;
  const refs = d.reference.cells.flat().filter((x): x is ReferenceCell => !!x && x.delta !== null);
  const flagged = refs.filter((x) => x.flagged).length;
  const unverified = refs.filter((x) => !x.verified).length;
  if (refs.length === 0) return `The paper has no ${esc(d.reference.model)} number for any dataset in this table.`;
  return (
    `Against ${esc(d.reference.model)}: <strong class="${flagged ? 'flag' : 'ok'}">${refs.length - flagged} of ${refs.length}</strong> results within ±${d.reference.tolerance} points of the paper` +
    (flagged ? `, <span class="flag">${flagged} beyond it (⚠)</span>` : '') +
    (unverified ? `; ${unverified === 1 ? '1 paper cell used is' : `${unverified} paper cells used are`} unverified` : '') +
    '.'
  );
}

/** The results matrix: the paper's numbers (`--reference`) in the generic reference slot; another source passes its own `refs`. */
/** The matrix: Δ against each model's published row where a table was given (`--reference-file`), else against the paper's `--reference`. */
export function resultsMatrix(d: ReportData, refs: CellReferences = d.published ? publishedReferences(d.table, d.published) : paperReferences(d.table, d.reference)): string[] {
  const view = matrixView(d.table, refs, d.reference?.tolerance ?? 1);
  return [
    ...matrixHtml(view, d.suite, { hasReference: refs.some((r) => r.some(Boolean)) }),
    `<p class="muted">Each cell is the dataset's headline metric, the paper's, from the most complete finished run of its setting (model, dataset and root, split, prompt set, preprocessing): a whole split before a --limit or a shard, then the most samples, then the latest. The mean row is computed as the paper does: the plain mean of the headline metrics, each dataset once (its own prompt set where several were run)${
      d.reference ? `, beside ${esc(d.reference.model)}'s mean over the same datasets` : ''
    }.</p>`,
  ];
}

function paperPlots(d: ReportData): string[] {
  const t = d.table;
  return t.rows.flatMap((r, i) => {
    const points = r.cells.flatMap((c, j) => {
      if (!c || c.headlineValue === null) return [];
      const x = d.reference?.cells[i][j];
      return [{ label: t.columns[j], ours: 100 * c.headlineValue, paper: x?.paper ?? null, verified: x?.verified ?? null, flagged: x?.flagged ?? false }];
    });
    if (points.length === 0) return [];
    const title = points.some((p) => p.paper !== null) ? `${rowLabel(r)}: ours vs the paper's ${d.reference!.model}, headline metric per dataset (%)` : `${rowLabel(r)}: headline metric per dataset (%)`;
    return [`<figure class="plot" data-plot="ours-vs-paper">`, oursVsPaperPlot(points, { title }), `<figcaption class="muted">${esc(title)}</figcaption></figure>`];
  });
}

function ablationHtml(a: Ablation): string[] {
  const cached = a.rows.some((r) => r.imagesEncoded !== undefined);
  return [
    `<h3>${esc(ablationTitle(a))}</h3>`,
    '<table class="ablation">',
    `<tr><th>prompt set</th><th class="num">templates</th><th>hash</th><th class="num">headline: ${esc(a.rows[0]?.headline ?? 'top1')}</th><th class="num">top-1</th><th class="num">top-5</th><th class="num">Δ vs ${esc(a.rows[0]?.promptSet ?? 'first')}</th>${cached ? '<th>images</th>' : ''}</tr>`,
    ...a.rows.map(
      (r, i) =>
        `<tr><td>${esc(r.promptSet)}${r.language ? ` [${esc(r.language)}]` : ''} <span class="muted">(run ${r.runId})</span></td>${num(r.templates === null ? '?' : String(r.templates))}<td><code>${esc(r.promptHash.slice(0, 8))}</code></td>${num(pct(r.headlineValue))}${num(pct(r.top1))}${num(pct(r.top5))}${num(i === 0 ? '–' : r.delta === null ? 'n/a' : signed(r.delta))}${cached ? `<td>${r.imagesEncoded ?? '?'} encoded, ${r.imagesCached ?? '?'} cached</td>` : ''}</tr>`,
    ),
    '</table>',
  ];
}

function provenanceTable(d: ReportData): string[] {
  return [
    '<div class="scroll"><table class="provenance">',
    '<tr><th class="num">run</th><th>model</th><th>fingerprint</th><th>variant</th><th>layout</th><th>dataset</th><th>root</th><th>split</th><th class="num">n</th><th class="num">failed</th><th>prompts</th><th>preprocessing</th><th>provider</th><th>versions</th><th>clip-bench commit</th><th>finished (UTC)</th></tr>',
    ...d.table.runs.map(
      (r) =>
        `<tr>${num(String(r.runId))}<td>${esc(r.model)}</td><td><code title="${esc(r.fingerprint)}">${esc(r.fingerprint.slice(0, 12))}</code></td><td>${esc(r.variant)}</td><td>${esc(r.layout)}</td><td>${esc(r.dataset)}</td><td><code>${esc(r.root)}</code></td><td>${esc(r.split)}</td>${num(String(r.n))}${num(String(r.nFailed))}<td>${esc(r.promptSet)}${r.language ? ` [${esc(r.language)}]` : ''} <code title="${esc(r.promptHash)}">${esc(r.promptHash.slice(0, 8))}</code></td><td>${esc(r.preprocessing)}</td><td>${esc(r.executionProvider)}</td><td>${esc(versionsText(r.versions))}</td><td><code>${esc(r.commit ? r.commit.slice(0, 10) : '–')}</code></td><td>${esc(r.date.slice(0, 19).replace('T', ' '))}</td></tr>`,
    ),
    '</table></div>',
  ];
}

function runSection(d: RunDetails): string[] {
  const decoded = d.perClass.reduce((s, c) => s + c.n, 0);
  const correct = d.perClass.reduce((s, c) => s + c.correct, 0);
  const cal = d.calibration;
  const summary = `Run ${d.runId}: ${d.title} — top-1 ${pct(decoded ? correct / decoded : null)}%, ${d.failures.count} failed${cal ? `, ECE ${(100 * cal.ece).toFixed(2)}%${cal.source === 'top5' ? ' (approx.)' : ''}` : ''}`;
  const failures = d.failures.count
    ? `<p><strong>${d.failures.count} samples failed</strong> (${d.excludeFailures ? 'excluded from the scores' : 'counted as wrong, as in the paper'}): ${d.failures.reasons.map((r) => `${r.count}× ${esc(r.reason)}`).join('; ')}</p>`
    : '<p>No sample failed to decode.</p>';
  const confusions = d.confusions.length
    ? [
        '<table class="confusions"><tr><th>true class</th><th>predicted</th><th class="num">count</th><th class="num">% of the class</th></tr>',
        ...d.confusions.map((c) => `<tr><td>${esc(c.labelName)}</td><td>${esc(c.predictedName)}</td>${num(String(c.count))}${num(pct(c.share))}</tr>`),
        '</table>',
      ]
    : ['<p>No mistakes among the decoded samples.</p>'];
  const perClass = [
    '<table class="per-class"><tr><th class="num">#</th><th>class</th><th>id</th><th class="num">n</th><th class="num">correct</th><th class="num">accuracy</th></tr>',
    ...d.perClass.map((c) => `<tr>${num(String(c.classIndex))}<td>${esc(c.name)}</td><td><code>${esc(c.classId)}</code></td>${num(String(c.n))}${num(String(c.correct))}${num(pct(c.accuracy))}</tr>`),
    '</table>',
  ];
  return [
    `<details class="run" id="run-${d.runId}">`,
    `<summary>${esc(summary)}</summary>`,
    failures,
    '<div class="plots">',
    ...(cal ? [`<figure class="plot" data-plot="reliability">`, reliabilityDiagram({ ...cal, approximate: cal.source === 'top5' }), `<figcaption>confidence: ${esc(cal.linkNote)}</figcaption>`, '</figure>'] : []),
    `<div><h3>Most confused (true → predicted)</h3>${confusions.join('\n')}<p class="muted">Class names from ${d.namesFrom === 'prompt set' ? "the run's prompt set" : 'the class ids (the prompt set could not be matched)'}.</p></div>`,
    '</div>',
    ...(cal?.source === 'top5' ? ['<p class="muted">This run predates stored confidences: the diagram uses the softmax over its five stored logits, an approximation that overstates confidence.</p>'] : []),
    '<h3>Per-class accuracy</h3>',
    ...perClass,
    '</details>',
  ];
}

function unfinishedHtml(d: ReportData): string[] {
  if (d.unfinished.length === 0) return [];
  return ['<section id="unfinished"><h2>Unfinished runs (not in the table)</h2><ul>', ...d.unfinished.map((r) => `<li>${esc(unfinishedLine(r))}</li>`), '</ul></section>'];
}

/** The retrieval runs' sections (retrieval-section.ts), beside the classification table. */
function retrievalHtml(d: ReportData): string[] {
  const note = unrankedRetrievalNote(d.unrankedRetrieval);
  if (!d.retrieval.length && !note) return [];
  return ['<section id="retrieval"><h2>Retrieval</h2>', ...d.retrieval.map(retrievalSectionHtml), ...(note ? [`<p class="muted">${esc(note)}</p>`] : []), '</section>'];
}

/** One part of the report page: its HTML lines, none where it has nothing to show. */
export type ReportSection = (d: ReportData) => string[];

/**
 * The report page's sections, top to bottom; a new part of the report is one more function here.
 * Each is given the whole ReportData and returns its lines (usually one <section>).
 */
export const REPORT_SECTIONS: readonly ReportSection[] = [
  (d) => [
    '<header><h1>clip-bench report</h1>',
    `<p class="muted">Zero-shot ${d.retrieval.length || d.unrankedRetrieval.length ? 'classification and retrieval' : 'classification'} results from the results DB, generated ${esc(d.generatedAt.slice(0, 19).replace('T', ' '))} UTC.</p></header>`,
    `<p class="answer">${answer(d)}</p>`,
  ],
  (d) => ['<section id="results"><h2>Results</h2>', ...resultsMatrix(d), '</section>'],
  (d) => (d.published ? ['<section id="published">', publishedSectionHtml(d.published), '</section>'] : []),
  (d) => ['<section id="plots"><h2>Per dataset</h2><div class="plots">', ...paperPlots(d), '</div></section>'],
  (d) => reportGroupsHtml(d.groups, esc),
  (d) => costSectionHtml(d.cost),
  retrievalHtml,
  (d) => languageTablesHtml(d.languages, esc),
  (d) => importedSectionHtml(d.imported, esc),
  (d) => (d.ablations.length ? ['<section id="ablations"><h2>Prompt ablations</h2>', ...d.ablations.flatMap(ablationHtml), '</section>'] : []),
  unfinishedHtml,
  (d) => ['<section id="runs"><h2>Runs</h2>', ...provenanceTable(d), ...d.details.flatMap(runSection), '</section>'],
];

export function reportHtml(d: ReportData): string {
  if (d.table.columns.length === 0) {
    if (d.retrieval.length || d.unrankedRetrieval.length) return page('clip-bench report', ['<h1>clip-bench report</h1>', '<p>No finished classification runs.</p>', ...retrievalHtml(d), ...reportGroupsHtml(d.groups, esc), ...languageTablesHtml(d.languages, esc), ...importedSectionHtml(d.imported, esc), ...unfinishedHtml(d)]);
    if (d.imported) return page('clip-bench report', ['<h1>clip-bench report</h1>', '<p>No runs measured here.</p>', ...importedSectionHtml(d.imported, esc), ...unfinishedHtml(d)]);
    const none = d.unfinished.length ? '<p>No finished runs yet.</p>' : '<p>No finished runs yet: run <code>clip-bench eval</code> first.</p>';
    return page('clip-bench report', ['<h1>clip-bench report</h1>', none, ...unfinishedHtml(d)]);
  }
  return page('clip-bench report', REPORT_SECTIONS.flatMap((section) => section(d)));
}

/** A comparison as a page: the sentence, the counts, the per-class deltas as a plot and a table. */
export function comparisonHtml(c: RunComparison, opts: { classes?: number } = {}): string {
  const top = c.perClass.filter((x) => x.delta !== 0).slice(0, opts.classes ?? 30);
  const title = comparisonTitle(c);
  const setting = c.differences.length
    ? `<p class="flag">Not the same setting: ${c.differences.map((d) => `${esc(d.setting)} ${esc(d.b)} (B) vs ${esc(d.a)} (A)`).join('; ')}.</p>`
    : '<p class="muted">Same setting: dataset root, split, prompt set, preprocessing, failure rule and samples.</p>';
  return page(`clip-bench compare: ${title}`, [
    `<header><h1>${esc(title)}</h1><p class="muted">Runs ${c.a.runId} (A, baseline: ${esc(c.a.model)}) and ${c.b.runId} (B: ${esc(c.b.model)}), ${c.paired} paired samples.</p>${setting}</header>`,
    `<p class="answer">${esc(c.sentence)}</p>`,
    '<table class="stats">',
    `<tr><th>top-1</th>${num(`${pct(c.a.accuracy)}% → ${pct(c.b.accuracy)}%`)}</tr>`,
    `<tr><th>difference, bootstrap 95% interval</th>${num(`${signed(100 * c.diff)} points [${signed(100 * c.low)}, ${signed(100 * c.high)}]`)}</tr>`,
    `<tr><th>exact McNemar p</th>${num(c.p < 1e-10 ? '&lt; 1e-10' : String(Number(c.p.toPrecision(2))))}</tr>`,
    `<tr><th>flips</th>${num(`${c.rightToWrong} right → wrong, ${c.wrongToRight} wrong → right`)}</tr>`,
    `<tr><th>top-1 agreement</th>${num(`${pct(c.agreement)}%`)}</tr>`,
    '</table>',
    `<h2>Classes that changed most</h2>`,
    `<figure class="plot" data-plot="class-deltas">`,
    classDeltaPlot(
      top.map((x) => ({ label: x.className ?? x.classId, delta: x.delta, n: x.n })),
      { title: `Per-class top-1 change, ${c.b.label} − ${c.a.label} (points), ${top.length} classes that changed most` },
    ),
    '</figure>',
    '<table class="per-class"><tr><th>class</th><th class="num">n</th><th class="num">A</th><th class="num">B</th><th class="num">Δ points</th></tr>',
    ...c.perClass.map((x) => `<tr><td>${esc(x.className ?? x.classId)}</td>${num(String(x.n))}${num(pct(x.accuracyA))}${num(pct(x.accuracyB))}${num(signed(100 * x.delta, 1))}</tr>`),
    '</table>',
  ]);
}

/** A retrieval comparison as a page: per direction and k, the recalls, the difference with its interval, McNemar's p and the flips. */
export function retrievalComparisonHtml(c: StoredRetrievalComparison): string {
  const name = (s: StoredRetrievalComparison['a']) => (s.runId === undefined || s.label === `run ${s.runId}` ? s.label : `${s.label} (run ${s.runId})`);
  const title = `${c.dataset} retrieval: ${name(c.b)} vs ${name(c.a)}`;
  const setting = c.settingDifferences.length
    ? `<p class="flag">Not the same setting: ${c.settingDifferences.map((d) => `${esc(d.setting)} ${esc(d.b)} (B) vs ${esc(d.a)} (A)`).join('; ')}.</p>`
    : '<p class="muted">Same setting: dataset root, split, captions and prefix, preprocessing, failure rule.</p>';
  const p = (x: number) => (x < 1e-10 ? '&lt; 1e-10' : String(Number(x.toPrecision(2))));
  const pct = (x: number) => (100 * x).toFixed(2);
  return page(`clip-bench compare: ${title}`, [
    `<header><h1>${esc(title)}</h1><p class="muted">A (baseline) is ${esc(name(c.a))}, B is ${esc(name(c.b))}.</p>${setting}</header>`,
    ...c.differences.filter((d) => d.k === c.recallK[0]).map((d) => `<p class="answer">${esc(d.sentence)}</p>`),
    '<table class="stats"><tr><th>direction</th><th>metric</th><th class="num">queries</th><th class="num">A %</th><th class="num">B %</th><th class="num">Δ points, bootstrap 95% interval</th><th class="num">exact McNemar p</th><th class="num">hit → miss</th><th class="num">miss → hit</th></tr>',
    ...c.differences.map(
      (d) =>
        `<tr><td>${esc(d.direction)}</td><td title="${esc(d.metric)}">R@${d.k}</td>${num(String(d.paired))}${num(pct(d.recallA))}${num(pct(d.recallB))}${num(`${signed(100 * d.diff)} [${signed(100 * d.low)}, ${signed(100 * d.high)}]`)}${num(p(d.p))}${num(String(d.lost))}${num(String(d.gained))}</tr>`,
    ),
    '</table>',
    ...c.notes.map((n) => `<p class="muted">${esc(n)}</p>`),
  ]);
}
