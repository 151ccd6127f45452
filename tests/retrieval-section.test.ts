import { describe, expect, it } from 'vitest';
import type { RetrievalReferenceCell } from '../src/report/retrieval-paper.js';
import { retrievalReference, retrievalReferenceCells } from '../src/report/retrieval-paper.js';
import {
  recallCutoffs,
  retrievalCsv,
  retrievalSectionHtml,
  retrievalSectionJson,
  retrievalSectionMarkdown,
  retrievalSectionRows,
  type RetrievalRunView,
} from '../src/report/retrieval-section.js';

// Hand-made recalls (fractions) per direction word and k; the metric names are spelt out here, independently
// of the module: image→text is CLIP_benchmark's text_retrieval, text→image its image_retrieval.
const RECALLS = { 'image→text': { 1: 0.8812, 5: 0.986, 10: 0.994 }, 'text→image': { 1: 0.6712, 5: 0.9066, 10: 0.9521 } } as const;
const NAME = { 'image→text': 'text_retrieval', 'text→image': 'image_retrieval' } as const;
type Dir = keyof typeof RECALLS;
const DIRS: Dir[] = ['image→text', 'text→image'];
const KS = [1, 5, 10] as const;

function metricsOf(recalls: typeof RECALLS = RECALLS): Record<string, number> {
  const m: Record<string, number> = {};
  for (const d of DIRS) for (const k of KS) m[`${NAME[d]}_recall@${k}`] = recalls[d][k];
  m.text_retrieval_mean_rank = 1.4567;
  m.text_retrieval_median_rank = 1;
  m.image_retrieval_mean_rank = 4.321;
  m.image_retrieval_median_rank = 2;
  m['mean_recall@1'] = (recalls['image→text'][1] + recalls['text→image'][1]) / 2;
  return m;
}

const PAPER: Record<string, number> = { text_retrieval: 88.0, image_retrieval: 68.7 };
const paperCells = (verified: boolean): RetrievalReferenceCell[] =>
  DIRS.flatMap((d) => KS.map((k) => ({ metric: `${NAME[d]}_recall@${k}`, value: k === 1 ? PAPER[NAME[d]] : 90 + k / 10, verified, source: 'test' })));

function view(over: Partial<RetrievalRunView> = {}): RetrievalRunView {
  return { runId: 7, model: 'clip-tiny fp16 (d45a8518)', dataset: 'flickr30k', rootLabel: 'data/flickr30k', split: 'test', nImages: 1000, nCaptions: 5000, failedImages: [], metrics: metricsOf(), ...over };
}

// An independent formatting of the expectations: percent with 2 decimals, a signed delta with a true minus.
const pct = (x: number) => (100 * x).toFixed(2);
const delta = (ours: number, paper: number) => {
  const d = Math.round((100 * ours - paper) * 1e9) / 1e9;
  return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)}`;
};

describe('retrieval section rows', () => {
  it('lists image→text then text→image, each R@k ascending then mean and median rank, then mean R@1, with the stored values', () => {
    const rows = retrievalSectionRows(view());
    const expected = DIRS.flatMap((d) => [
      ...KS.map((k) => ({ direction: d, label: `R@${k}`, metric: `${NAME[d]}_recall@${k}`, value: RECALLS[d][k] })),
      { direction: d, label: 'mean rank', metric: `${NAME[d]}_mean_rank`, value: metricsOf()[`${NAME[d]}_mean_rank`] },
      { direction: d, label: 'median rank', metric: `${NAME[d]}_median_rank`, value: metricsOf()[`${NAME[d]}_median_rank`] },
    ]);
    expected.push({ direction: 'both' as Dir, label: 'mean R@1', metric: 'mean_recall@1', value: (0.8812 + 0.6712) / 2 });
    expect(rows.map(({ direction, label, metric, value }) => ({ direction, label, metric, value }))).toEqual(expected);
    expect(rows.every((r) => r.reference === null)).toBe(true);
  });

  it('refuses recalls present for one direction only, and metrics without any recall', () => {
    const m = metricsOf();
    delete m['image_retrieval_recall@5'];
    expect(() => recallCutoffs(m)).toThrow(/recall@5 for one direction only: image_retrieval_recall@5 is missing/);
    expect(() => recallCutoffs({ text_retrieval_mean_rank: 1 })).toThrow(/no recall@k/);
  });

  it('puts the paper cell beside each recall it has (and only those), with Δ = ours − paper in points', () => {
    const m = metricsOf();
    for (const k of [5, 10]) for (const d of DIRS) delete m[`${NAME[d]}_recall@${k}`];
    const rows = retrievalSectionRows(view({ metrics: m, reference: { model: 'ViT-L/14@336px', cells: paperCells(false) } }));
    const withPaper = rows.filter((r) => r.reference);
    expect(withPaper.map((r) => r.metric)).toEqual(['text_retrieval_recall@1', 'image_retrieval_recall@1']);
    expect(withPaper[0].reference!.delta).toBeCloseTo(88.12 - 88.0, 9);
    expect(withPaper[1].reference!.delta).toBeCloseTo(67.12 - 68.7, 9);
  });
});

describe('retrieval section as Markdown', () => {
  it('shows both directions in words, every recall in percent beside the paper with Δ, ⚠ beyond the tolerance and * on unverified cells', () => {
    const cells = paperCells(false);
    const md = retrievalSectionMarkdown(view({ reference: { model: 'ViT-L/14@336px', cells, tolerance: 1 } }));
    expect(md).toContain('#### Retrieval: flickr30k (data/flickr30k) / test — clip-tiny fp16 (d45a8518) (run 7)');
    expect(md).toContain('1,000 images, 5,000 captions.');
    expect(md).toContain('| direction | metric | ours | paper ViT-L/14@336px | Δ |');
    for (const d of DIRS) {
      for (const k of KS) {
        const paper = cells.find((c) => c.metric === `${NAME[d]}_recall@${k}`)!.value;
        const d100 = 100 * RECALLS[d][k] - paper;
        const flag = Math.abs(d100) > 1 ? ' ⚠' : '';
        expect(md, `${d} R@${k}`).toContain(`| ${d} | R@${k} | ${pct(RECALLS[d][k])} | ${paper.toFixed(1)}* | ${delta(RECALLS[d][k], paper)}${flag} |`);
      }
    }
    // text→image R@1 is 67.12 against 68.7: beyond ±1, so the legend for ⚠ is there
    expect(md).toContain('| text→image | R@1 | 67.12 | 68.7* | −1.58 ⚠ |');
    expect(md).toContain('⚠ marks a delta beyond ±1 points.');
    expect(md).toContain('| image→text | mean rank | 1.46 | — | — |');
    expect(md).toContain('| text→image | median rank | 2 | — | — |');
    expect(md).toContain(`| both | mean R@1 | ${pct((0.8812 + 0.6712) / 2)} | — | — |`);
    expect(md).toMatch(/^\* unverified paper cell/m);
  });

  it('drops the * and its footnote for verified cells, and the paper columns without a reference', () => {
    const md = retrievalSectionMarkdown(view({ reference: { model: 'ViT-L/14@336px', cells: paperCells(true) } }));
    expect(md).toContain('| image→text | R@1 | 88.12 | 88.0 | +0.12 |');
    expect(md).not.toMatch(/^\* unverified/m);
    const plain = retrievalSectionMarkdown(view());
    expect(plain).toContain('| direction | metric | ours |\n|---|---|---:|');
    expect(plain).toContain('| image→text | R@1 | 88.12 |');
    expect(plain).not.toContain('paper');
  });

  it('says where the paper has no number, where the split or caption prefix is not the paper\'s', () => {
    const none = retrievalSectionMarkdown(view({ dataset: 'flickr8k', reference: { model: 'ViT-L/14@336px', cells: retrievalReferenceCells('ViT-L/14@336px', 'flickr8k') } }));
    expect(none).toContain("The paper's Table 13 has no ViT-L/14@336px number for flickr8k.");
    const other = retrievalSectionMarkdown(view({ split: 'val', captionPrefix: '', reference: { model: 'ViT-L/14@336px', cells: paperCells(false), split: 'test' } }));
    expect(other).toContain("The paper's numbers are on the test split; this run is on val: not like for like.");
    expect(other).toContain('this run used none (pass --caption-prefix "a photo of " to reproduce the paper)');
    const same = retrievalSectionMarkdown(view({ captionPrefix: 'a photo of ', reference: { model: 'ViT-L/14@336px', cells: paperCells(false), split: 'test' } }));
    expect(same).not.toContain('--caption-prefix');
    expect(same).not.toContain('not like for like');
  });

  it('counts failed images, says how their queries count, and lists them with their reasons (the first N)', () => {
    const failedImages = Array.from({ length: 12 }, (_, i) => ({ key: `img${i}.jpg`, reason: `cannot decode ${i}` }));
    const md = retrievalSectionMarkdown(view({ failedImages }), { failedListed: 3 });
    expect(md).toContain('1,000 images, 5,000 captions, 12 failed.');
    expect(md).toContain('12 images failed to decode: they count as image→text misses and their captions as text→image misses.');
    expect(md).toContain('- img0.jpg: cannot decode 0\n- img1.jpg: cannot decode 1\n- img2.jpg: cannot decode 2\n- … and 9 more');
    expect(md).not.toContain('img3.jpg');
    const excluded = retrievalSectionMarkdown(view({ failedImages: failedImages.slice(0, 1), failureRule: 'exclude' }));
    expect(excluded).toContain('1 image failed to decode and is left out, with its captions, of both directions.');
  });
});

describe('retrieval section as CSV and JSON', () => {
  // a CSV line split by a minimal RFC 4180 reader, written here so the test does not trust the writer
  function parseCsvLine(line: string): string[] {
    const out: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
        else if (ch === '"') quoted = false;
        else cur += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') out.push(cur), (cur = '');
      else cur += ch;
    }
    out.push(cur);
    return out;
  }

  it('writes one line per metric per run, values as stored, paper columns for every run once one has a reference', () => {
    const a = view({ rootLabel: 'data/a,b', failedImages: [{ key: 'x.jpg', reason: 'truncated' }], reference: { model: 'ViT-L/14@336px', cells: paperCells(false) } });
    const b = view({ runId: 8, dataset: 'mscoco', nImages: 5000, nCaptions: 25010 });
    const lines = retrievalCsv([a, b]).trimEnd().split('\n').map(parseCsvLine);
    const header = lines[0];
    expect(header).toEqual(['model', 'dataset', 'root', 'split', 'run_id', 'n_images', 'n_captions', 'n_failed_images', 'direction', 'metric', 'value', 'paper_model', 'paper', 'paper_verified', 'delta_points', 'beyond_tolerance']);
    const rows = lines.slice(1).map((f) => Object.fromEntries(header.map((h, i) => [h, f[i]])));
    expect(lines.slice(1).every((f) => f.length === header.length)).toBe(true);
    expect(rows).toHaveLength(2 * 11);
    const m = metricsOf();
    for (const r of rows) expect(Number(r.value), `${r.run_id} ${r.metric}`).toBe(m[r.metric]);
    const aR1 = rows.find((r) => r.run_id === '7' && r.metric === 'image_retrieval_recall@1')!;
    expect(aR1).toMatchObject({ root: 'data/a,b', direction: 'text→image', n_failed_images: '1', paper_model: 'ViT-L/14@336px', paper: '68.7', paper_verified: 'false', beyond_tolerance: 'true' });
    expect(Number(aR1.delta_points)).toBeCloseTo(67.12 - 68.7, 9);
    const bR1 = rows.find((r) => r.run_id === '8' && r.metric === 'image_retrieval_recall@1')!;
    expect(bR1).toMatchObject({ dataset: 'mscoco', n_images: '5000', n_captions: '25010', paper_model: '', paper: '', delta_points: '' });
  });

  it('JSON carries the task, counts, metrics, rows with paper cells and the notes, and survives a round trip', () => {
    const v = view({ failedImages: [{ key: 'x.jpg', reason: 'truncated' }], reference: { model: 'ViT-L/14@336px', cells: paperCells(false), split: 'test' } });
    const j = JSON.parse(JSON.stringify(retrievalSectionJson(v)));
    expect(j).toMatchObject({ task: 'retrieval', runId: 7, dataset: 'flickr30k', split: 'test', n_images: 1000, n_captions: 5000, n_failed_images: 1, failure_rule: 'miss', reference: { model: 'ViT-L/14@336px', tolerance: 1, split: 'test' } });
    expect(j.metrics).toEqual(metricsOf());
    expect(j.failed_images).toEqual([{ key: 'x.jpg', reason: 'truncated' }]);
    const r1 = j.rows.find((r: { metric: string }) => r.metric === 'text_retrieval_recall@1');
    expect(r1).toMatchObject({ direction: 'image→text', value: 0.8812, paper: 88, paper_verified: false, beyond_tolerance: false });
    expect(j.rows.find((r: { metric: string }) => r.metric === 'text_retrieval_mean_rank')).not.toHaveProperty('paper');
    expect(j.notes.some((n: string) => n.includes('failed to decode'))).toBe(true);
  });
});

describe('retrieval section as HTML', () => {
  it('is a fragment with no script, every value in a numeric cell, an unverified badge per unverified paper cell, text escaped', () => {
    const html = retrievalSectionHtml(view({ model: 'm<1>', failedImages: [{ key: 'a&b.jpg', reason: 'bad "header"' }], reference: { model: 'ViT-L/14@336px', cells: paperCells(false) } }));
    expect(html.startsWith('<section class="retrieval"')).toBe(true);
    expect(html.trimEnd().endsWith('</section>')).toBe(true);
    expect(html).not.toMatch(/<script|<html|<style/i);
    for (const d of DIRS) for (const k of KS) expect(html).toContain(`<td class="num">${pct(RECALLS[d][k])}</td>`);
    expect(html.match(/class="badge"[^>]*>unverified</g)).toHaveLength(6);
    expect(html).toContain('<td class="num flag">−1.58 ⚠</td>');
    expect(html).toContain('m&lt;1&gt;');
    expect(html).toContain('<code>a&amp;b.jpg</code>: bad &quot;header&quot;');
    expect(html).toContain('<td>image→text</td>');
    expect(html).toContain('<td>text→image</td>');
    const verified = retrievalSectionHtml(view({ reference: { model: 'ViT-L/14@336px', cells: paperCells(true) } }));
    expect(verified).not.toContain('unverified');
  });
});

describe('--reference ViT-L/14@336px on a retrieval run', () => {
  it("puts the shipped Table 13 cells beside ours: MSCOCO's values, all marked unverified, on the paper's split", () => {
    const m = metricsOf();
    const md = retrievalSectionMarkdown(view({ dataset: 'mscoco', nImages: 5000, nCaptions: 25010, metrics: m, split: 'val', reference: retrievalReference('ViT-L/14@336px', 'mscoco', 2) }));
    // issue 15's MSCOCO row, R@1 per direction: image→text 58.4, text→image 37.8
    expect(md).toContain(`| image→text | R@1 | 88.12 | 58.4* | ${delta(0.8812, 58.4)} ⚠ |`);
    expect(md).toContain(`| text→image | R@1 | 67.12 | 37.8* | ${delta(0.6712, 37.8)} ⚠ |`);
    expect(md).toContain('⚠ marks a delta beyond ±2 points.');
    expect(md).toContain("The paper's numbers are on the test split; this run is on val");
    expect(retrievalReference('RN50', 'mscoco').cells).toEqual([]);
    // the whole test split is the paper's setting; a --limit run on it is said not to be
    expect(retrievalReference('ViT-L/14@336px', 'mscoco').counts).toEqual({ images: 5000, captions: 25010 });
    const whole = retrievalSectionMarkdown(view({ dataset: 'mscoco', nImages: 5000, nCaptions: 25010, reference: retrievalReference('ViT-L/14@336px', 'mscoco') }));
    expect(whole).not.toContain('not like for like');
    const partial = retrievalSectionMarkdown(view({ dataset: 'mscoco', nImages: 100, nCaptions: 501, reference: retrievalReference('ViT-L/14@336px', 'mscoco') }));
    expect(partial).toContain("The paper's numbers are on all 5,000 images, 25,010 captions of the test split; this run has 100 images, 501 captions: not like for like.");
    expect(() => retrievalReference('RN5O', 'mscoco')).toThrow(/Did you mean "RN50"/);
  });
});
