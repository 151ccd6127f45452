import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RETRIEVAL_DATASETS } from '../src/datasets/retrieval/index.js';
import { entryPaperKey, findSuiteDatasets, listSuites, loadSuite } from '../src/eval/suite.js';
import { retrievalPaperNumbers } from '../src/report/retrieval-paper.js';

describe('configs/suites/paper-retrieval.json', () => {
  it("loads through the suite reader: Table 13's datasets, flickr30k then mscoco, each a retrieval adapter id with folders relative to the data root", () => {
    expect(listSuites()).toContain('paper-retrieval');
    const s = loadSuite('paper-retrieval');
    expect(s.id).toBe('paper-retrieval');
    expect(s.datasets.map((e) => e.dataset)).toEqual(['flickr30k', 'mscoco']);
    // the same datasets as the paper's Table 13 data file
    expect(s.datasets.map((e) => e.dataset).sort()).toEqual(Object.keys(retrievalPaperNumbers().datasets).sort());
    for (const e of s.datasets) {
      expect(Object.keys(RETRIEVAL_DATASETS), e.dataset).toContain(e.dataset);
      expect(e.dirs[0], 'its own id is looked for first').toBe(e.dataset);
      expect(e.dirs.every((d) => !path.isAbsolute(d))).toBe(true);
      // no split given: the adapter's default, which is the test split the paper reports
      expect(e.split).toBeUndefined();
      expect(RETRIEVAL_DATASETS[e.dataset as keyof typeof RETRIEVAL_DATASETS].splits[0]).toBe('test');
      // suite.ts compares with Table 11 only: a retrieval entry has no paper key there (the integration's job)
      expect(entryPaperKey(e)).toBeNull();
    }
  });

  it('finds each dataset under the first of its folders that exists', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-retrieval-suite-'));
    mkdirSync(path.join(root, 'coco'));
    mkdirSync(path.join(root, 'mscoco_captions'));
    const { found, skipped } = findSuiteDatasets(loadSuite('paper-retrieval'), root);
    expect(found.map((f) => [f.entry.dataset, path.basename(f.root)])).toEqual([['mscoco', 'mscoco_captions']]);
    expect(skipped.map((s) => s.entry.dataset)).toEqual(['flickr30k']);
  });
});
