import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RETRIEVAL_DATASETS } from '../src/datasets/retrieval/index.js';
import { retrievalMetricNames } from '../src/eval/retrieval-metrics.js';
import { packageRoot } from '../src/paths.js';
import { paperNumbers } from '../src/report/paper.js';
import { parseRetrievalPaper, RETRIEVAL_PAPER_FILE, retrievalPaperNumbers, retrievalReferenceCells } from '../src/report/retrieval-paper.js';
import { usageFailureSync as failureOf } from './support/usage-failure.js';

const rawFile = () => JSON.parse(readFileSync(path.join(packageRoot, RETRIEVAL_PAPER_FILE), 'utf8')) as { datasets: Record<string, { results: Record<string, { cells: Record<string, unknown> }> }> };

// Issue 15's list of Table 13 (ViT-L/14@336px), typed here from the issue, not from the file: R@1/5/10, percent.
const ISSUE_VALUES: Record<string, Record<'imageToText' | 'textToImage', [number, number, number]>> = {
  flickr30k: { imageToText: [88.0, 98.7, 99.4], textToImage: [68.7, 90.6, 95.2] },
  mscoco: { imageToText: [58.4, 81.5, 88.1], textToImage: [37.8, 62.4, 72.2] },
};

describe('configs/paper/retrieval.json (Table 13)', () => {
  it('is keyed by retrieval dataset ids, paper model names and the six recall names, each cell [value, verified flag]', () => {
    const raw = rawFile();
    const recalls = retrievalMetricNames().filter((m) => /^(text|image)_retrieval_recall@/.test(m));
    expect(recalls).toHaveLength(6);
    expect(Object.keys(raw.datasets).sort()).toEqual(['flickr30k', 'mscoco']);
    for (const [id, d] of Object.entries(raw.datasets)) {
      expect(Object.keys(RETRIEVAL_DATASETS), id).toContain(id);
      for (const [model, r] of Object.entries(d.results)) {
        expect(paperNumbers().models, `${id} ${model}`).toContain(model);
        expect(Object.keys(r.cells).sort(), `${id} ${model}`).toEqual([...recalls].sort());
        for (const [metric, cell] of Object.entries(r.cells)) {
          expect(Array.isArray(cell) && cell.length === 2 && typeof cell[0] === 'number' && typeof cell[1] === 'boolean', `${id} ${model} ${metric}: ${JSON.stringify(cell)}`).toBe(true);
        }
      }
    }
  });

  it("holds issue 15's ViT-L/14@336px values under the right direction, every one flagged unverified with its source", () => {
    for (const [dataset, v] of Object.entries(ISSUE_VALUES)) {
      const cells = new Map(retrievalReferenceCells('ViT-L/14@336px', dataset).map((c) => [c.metric, c]));
      expect(cells.size).toBe(6);
      [1, 5, 10].forEach((k, i) => {
        // text_retrieval = the image is the query and captions are retrieved: image→text
        expect(cells.get(`text_retrieval_recall@${k}`)?.value, `${dataset} image→text R@${k}`).toBe(v.imageToText[i]);
        expect(cells.get(`image_retrieval_recall@${k}`)?.value, `${dataset} text→image R@${k}`).toBe(v.textToImage[i]);
      });
      for (const c of cells.values()) {
        expect(c.verified, `${dataset} ${c.metric}`).toBe(false);
        expect(c.source).toMatch(/Table 13/);
      }
    }
  });

  it('gives no cells for a paper model or dataset Table 13 lacks, and "did you mean" for a misspelt model', () => {
    expect(retrievalReferenceCells('ViT-B/32', 'flickr30k')).toEqual([]);
    expect(retrievalReferenceCells('ViT-L/14@336px', 'flickr8k')).toEqual([]);
    expect(failureOf(() => retrievalReferenceCells('ViT-L/14@336', 'mscoco'))).toMatch(/unknown paper model "ViT-L\/14@336"\. Did you mean "ViT-L\/14@336px"\?/);
  });

  it('the loader caches one parse of the shipped file', () => {
    expect(retrievalPaperNumbers()).toBe(retrievalPaperNumbers());
  });

  const good = () => ({ datasets: { flickr30k: { paper_name: 'F', split: 'test', results: { RN50: { source: 's', cells: { 'text_retrieval_recall@1': [88, false] } } } } } });
  it.each([
    ['a metric that is not a recall', (r: ReturnType<typeof good>) => ((r.datasets.flickr30k.results.RN50.cells as Record<string, unknown>)['text_retrieval_mean_rank'] = [1, false]), /"text_retrieval_mean_rank", not a recall name/],
    ['a value given as a string', (r: ReturnType<typeof good>) => ((r.datasets.flickr30k.results.RN50.cells as Record<string, unknown>)['text_retrieval_recall@1'] = ['88', false]), /must be \[percent in 0\.\.100, verified true\/false\], got \["88",false\]/],
    ['a cell without its flag', (r: ReturnType<typeof good>) => ((r.datasets.flickr30k.results.RN50.cells as Record<string, unknown>)['text_retrieval_recall@1'] = [88]), /got \[88\]/],
    ['a fraction-looking value above 100', (r: ReturnType<typeof good>) => ((r.datasets.flickr30k.results.RN50.cells as Record<string, unknown>)['text_retrieval_recall@1'] = [880, false]), /got \[880,false\]/],
    ['a model entry without a source', (r: ReturnType<typeof good>) => ((r.datasets.flickr30k.results.RN50 as { source?: string }).source = undefined), /results\["RN50"\] needs a "source"/],
  ])('refuses %s, naming the file and the entry', (_what, spoil, message) => {
    expect(parseRetrievalPaper(good())).toEqual({ datasets: { flickr30k: { paperName: 'F', split: 'test', results: { RN50: [{ metric: 'text_retrieval_recall@1', value: 88, verified: false, source: 's' }] } } } });
    const r = good();
    spoil(r);
    const line = failureOf(() => parseRetrievalPaper(r, 'configs/paper/retrieval.json'));
    expect(line).toMatch(/^configs\/paper\/retrieval\.json: /);
    expect(line).toMatch(message);
  });
});
