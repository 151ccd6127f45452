import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listPromptSets } from '../src/prompts/prompt-set.js';
import { paperCell, paperNumbers } from '../src/report/paper.js';
import { reference } from './support/reference.js';

const paperRef = reference('paper-zero-shot.json', 'paper numbers against the reference table');
const refFile = paperRef.path;

describe('paper zero-shot numbers', () => {
  it('covers the 27 datasets, each keyed like its prompt set, with ViT-B/32 on ImageNet at 63.2 (verified)', () => {
    const p = paperNumbers();
    expect(Object.keys(p.datasets)).toHaveLength(27);
    for (const id of Object.keys(p.datasets)) expect(listPromptSets()).toContain(id);
    expect(paperCell('imagenet', 'ViT-B/32')).toEqual({ value: 63.2, verified: true });
    expect(() => paperCell('imagenet', 'ViT-B32')).toThrow(/Did you mean "ViT-B\/32"/);
  });

  it.skipIf(!paperRef.present)('equals the reference table cell by cell, verified flags included', () => {
    const ref = JSON.parse(readFileSync(refFile, 'utf8')) as { datasets: { dataset: string; metric: string; results: Record<string, { value: number; verified: boolean }> }[] };
    const ours = paperNumbers();
    const byName = new Map(Object.entries(ours.datasets).map(([id, d]) => [d.paperName, { id, ...d }]));
    let cells = 0;
    for (const d of ref.datasets) {
      const o = byName.get(d.dataset);
      expect(o, d.dataset).toBeDefined();
      for (const [model, cell] of Object.entries(d.results)) {
        expect(o!.results[model], `${d.dataset} ${model}`).toEqual({ value: cell.value, verified: cell.verified });
        cells++;
      }
    }
    expect(cells).toBe(27 * 6);
  });
});

describe('eval --reference', () => {
  it('puts the paper number beside ours with the delta in points', async () => {
    const { compareWithPaper, formatPaperComparison } = await import('../src/cli/eval.js');
    const r = { dataset: 'imagenet', top1: 0.629, headlineValue: 0.629 };
    const c = compareWithPaper(r, 'ViT-B/32');
    expect(c).toMatchObject({ paper: 63.2, verified: true });
    expect(c.delta).toBeCloseTo(-0.3, 10);
    expect(formatPaperComparison(c)).toBe('  paper ViT-B/32: 63.2%   ours 62.90%   Δ −0.30 points');
    expect(formatPaperComparison(compareWithPaper({ ...r, dataset: 'birdsnap' }, 'ViT-B/32'))).toContain('(unverified cell)');
    expect(compareWithPaper({ ...r, dataset: 'imagefolder' }, 'RN50').paper).toBeNull();
  });
});
