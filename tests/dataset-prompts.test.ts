/**
 * Which prompts a run gets (`datasetPrompts`): a templates-only set (single, classname, a user's templates file)
 * takes the dataset's curated class names, never its class ids; ids that are no names are refused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { promptClassIds } from '../src/datasets/benchmark-fs.js';
import { DATASETS, getDataset } from '../src/datasets/index.js';
import { imagenetSubsetPlan } from '../src/datasets/imagenet.js';
import { imagenetWnids } from '../src/datasets/wnids.js';
import { UsageError } from '../src/errors.js';
import { datasetPrompts } from '../src/eval/zero-shot.js';
import { packageRoot } from '../src/paths.js';
import { classNamesFor } from '../src/report/report-data.js';
import { loadPromptSet, ORDER_FILE, positionalRule } from '../src/prompts/prompt-set.js';

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

  it('the report shows the same names for such a run (its hash matches once the dataset names are applied)', () => {
    const run = prompts('cifar10', cifarIds, 'single');
    expect(classNamesFor('single', run.hash, cifarIds, 'cifar10')).toEqual({ names: run.classNames.map((n) => n[0]), from: 'prompt set' });
    expect(classNamesFor('single', run.hash, cifarIds, 'cifar10').names[0]).toBe('airplane');
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

describe('through the built CLI', () => {
  it('eval on label-number folders with the default single prompt: one line naming the problem, exit 2, no DB written', () => {
    const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
    const root = path.join(tmp, 'numbered');
    for (const c of ['0', '1']) {
      mkdirSync(path.join(root, c), { recursive: true });
      writeFileSync(path.join(root, c, 'x.jpg'), '');
    }
    const db = path.join(tmp, 'numbered.sqlite');
    // the prompts are checked before the model is opened: the model folder need not exist for this refusal
    const r = spawnSync(process.execPath, [bin, 'eval', '--model', path.join(tmp, 'no-model'), '--dataset', 'imagefolder', '--root', root, '--db', db], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/dataset imagefolder has no known class names: its class ids are label numbers \(0, 1, …\)/);
    expect(existsSync(db)).toBe(false);
  });
});

describe("positional class-name lists follow CLIP_benchmark's label order per dataset", () => {
  /** a CLIP_benchmark-style folder: classnames.txt (one name a line, in its label order) and templates */
  const cbFolder = (name: string, classnames: readonly string[]) => {
    const dir = path.join(tmp, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'classnames.txt'), classnames.join('\n') + '\n');
    writeFileSync(path.join(dir, 'zeroshot_classification_templates.txt'), 'a photo of a {c}.\n');
    return dir;
  };

  it('every dataset adapter has a rule; every explicit order is a permutation of its class ids', () => {
    const table = (JSON.parse(readFileSync(ORDER_FILE, 'utf8')) as { datasets: Record<string, unknown> }).datasets;
    expect(Object.keys(table).sort()).toEqual(Object.keys(DATASETS).sort());
    for (const id of Object.keys(DATASETS)) {
      const rule = positionalRule(id)!;
      if ('order' in rule && Array.isArray(rule.order)) expect([...rule.order].sort()).toEqual(promptClassIds(id).sort());
    }
  });

  it("FER2013: CLIP_benchmark's alphabetical list (ImageFolder of Kaggle's folders) lands on the right emotions", () => {
    // en_classnames.json "fer2013" of LAION-AI/CLIP_benchmark, in its label order
    const cb = ['angry', 'disgusted', 'fearful', 'happy', 'neutral', 'sad', 'surprised'];
    const r = prompts('fer2013', promptClassIds('fer2013'), cbFolder('fer-cb', cb));
    // fer2013.csv's emotion: 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral (the paper set's names agree)
    const ours = loadPromptSet('fer2013').classes!;
    expect(r.classNames.map((n) => n[0])).toEqual(['angry', 'disgusted', 'fearful', 'happy', 'sad', 'surprised', 'neutral']);
    expect(r.classNames.map((n) => n[0])).toEqual(promptClassIds('fer2013').map((id) => [ours[id]].flat()[0]));
  });

  it('CIFAR-10: label order, as CLIP_benchmark', () => {
    const names = loadPromptSet('cifar10').classes!;
    const cb = Object.values(names) as string[];
    expect(prompts('cifar10', Object.keys(names), cbFolder('cifar-cb', cb)).classNames.map((n) => n[0])).toEqual(cb);
  });

  it('Caltech-101 (two CLIP_benchmark orders) and datasets CLIP_benchmark lacks refuse a positional list, asking for an id-keyed file', () => {
    const ids = promptClassIds('caltech101');
    const run = () => prompts('caltech101', ids, cbFolder('caltech-cb', ids));
    expect(run).toThrow(UsageError);
    expect(run).toThrow(/lists class names by position, which dataset caltech101 cannot take: CLIP_benchmark has two Caltech-101 orders/);
    try {
      run();
    } catch (e) {
      expect((e as UsageError).oneLine()).toMatch(/classnames\.txt: .* — key names by class id in a JSON "classes" object/);
    }
    const ucf = promptClassIds('ucf101');
    expect(() => prompts('ucf101', ucf, cbFolder('ucf-cb', ucf))).toThrow(/CLIP_benchmark has no UCF101 loader/);
  });
});
