/**
 * Which prompts a run gets (`datasetPrompts`): a templates-only set (single, classname, a user's templates file)
 * takes the dataset's curated class names, never its class ids; ids that are no names are refused.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { promptClassIds } from '../src/datasets/benchmark-fs.js';
import { getDataset } from '../src/datasets/index.js';
import { imagenetSubsetPlan } from '../src/datasets/imagenet.js';
import { imagenetWnids } from '../src/datasets/wnids.js';
import { UsageError } from '../src/errors.js';
import { datasetPrompts } from '../src/eval/zero-shot.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-dataset-prompts-'));
const prompts = (dataset: string, classIds: readonly string[], ref: string | undefined) => {
  const adapter = getDataset(dataset);
  return datasetPrompts(adapter, tmp, classIds, dataset === 'imagefolder' ? imagenetSubsetPlan(classIds) : undefined, ref);
};

describe('templates-only prompt sets use the dataset\'s curated names', () => {
  const cifarIds = Array.from({ length: 10 }, (_, i) => String(i));

  it('single on CIFAR-10: "a photo of a airplane.", not "a photo of a 0."', () => {
    const r = prompts('cifar10', cifarIds, 'single');
    expect(r.texts[0]).toBe('a photo of a airplane.');
    expect(r.texts[9]).toBe('a photo of a truck.');
    expect(r.namesFrom).toBe('cifar10');
  });

  it('classname on SUN397: the paper set\'s scene names, not "/a/abbey"', () => {
    const r = prompts('sun397', promptClassIds('sun397'), 'classname');
    expect(r.texts[0]).toBe('abbey');
    expect(r.texts.some((t) => t.startsWith('/'))).toBe(false);
  });

  it('single on WordNet-id folders: the notebook\'s ImageNet names ("a photo of a tench.")', () => {
    const W = imagenetWnids();
    const r = prompts('imagefolder', [W[0], W[1]], 'single');
    expect(r.texts).toEqual(['a photo of a tench.', 'a photo of a goldfish.']);
    expect(prompts('imagenet', W, 'classname').texts[0]).toBe('tench');
  });

  it('the names are part of the prompt hash: single with dataset names = the paper set reduced to that one template', () => {
    const oneTemplate = path.join(tmp, 'cifar10-one.json');
    writeFileSync(oneTemplate, JSON.stringify({ include: 'cifar10', templates: ['a photo of a {c}.'] }));
    expect(prompts('cifar10', cifarIds, 'single').hash).toBe(prompts('cifar10', cifarIds, oneTemplate).hash);
    expect(prompts('cifar10', cifarIds, 'single').hash).not.toBe(prompts('cifar10', cifarIds, 'classname').hash);
  });

  it('a user\'s templates-only file is treated the same', () => {
    const f = path.join(tmp, 'mine.json');
    writeFileSync(f, JSON.stringify({ templates: ['art of the {c}.'] }));
    expect(prompts('cifar10', cifarIds, f).texts[2]).toBe('art of the bird.');
  });

  it('a plain ImageFolder\'s folder names are its names', () => {
    expect(prompts('imagefolder', ['cat', 'golden retriever'], 'single').texts).toEqual(['a photo of a cat.', 'a photo of a golden retriever.']);
  });

  it.each([
    ['label numbers', ['0', '1', '2']],
    ['WordNet ids', ['n99999998', 'n99999999']],
  ])('class ids that are %s and no known names: one-line refusal', (kind, ids) => {
    const run = () => prompts('imagefolder', ids, 'single');
    expect(run).toThrow(UsageError);
    expect(run).toThrow(new RegExp(`dataset imagefolder has no known class names: its class ids are ${kind}`));
  });
});
