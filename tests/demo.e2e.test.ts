/**
 * The semantic end-to-end check: the toy CLIP classifies its own colour images. Its construction
 * (src/fixtures/toy-clip.ts, colour-dataset.ts) guarantees every image is classified correctly, so the
 * expectations below are derived from the construction, not from a recorded run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COLOUR_CORNERS } from '../src/fixtures/toy-clip.js';
import { writeDemo, type DemoPaths } from '../src/fixtures/demo.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import { openDb } from '../src/store/db.js';
import { iteratePredictions } from '../src/store/runs.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';

const PER_CLASS = 6;
const N_CLASSES = Object.keys(COLOUR_CORNERS).length;
let tmp: string;
let demo: DemoPaths;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-demo-'));
  demo = await writeDemo(path.join(tmp, 'demo'), PER_CLASS);
});

const evalOpts = (prompts: string) => ({ modelDir: demo.model, dataset: 'imagefolder', root: demo.root, prompts, batchSize: 5, workers: 2 });

describe('toy CLIP on the colour dataset', () => {
  it('classifies every image correctly, as its construction guarantees, and records every prediction', async () => {
    const db = openDb(':memory:');
    const r = await runZeroShot(db, evalOpts('colours'));
    expect(r.n).toBe(PER_CLASS * N_CLASSES);
    expect(r.nFailed).toBe(0);
    expect(r.top1).toBe(1);
    expect(r.top5).toBe(1);
    const preds = [...iteratePredictions(db, r.runId)];
    expect(preds).toHaveLength(r.n);
    expect(preds.every((p) => p.top5![0] === p.label && p.top5!.length === 5)).toBe(true);
    // logits are 100 × cosine: the winner is well above the runner-up, all within [-100, 100]
    expect(preds.every((p) => p.top5Logits![0] > p.top5Logits![1] && Math.abs(p.top5Logits![0]) <= 100)).toBe(true);
  });

  it('scores exactly 0 when the prompt names are rotated among the classes (class order is read by id)', async () => {
    const names = Object.keys(COLOUR_CORNERS);
    const rotated = Object.fromEntries(names.map((id, i) => [id, names[(i + 1) % names.length]]));
    const file = path.join(tmp, 'rotated.json');
    writeFileSync(file, JSON.stringify({ id: 'rotated', classes: rotated, templates: loadPromptSet('colours').templates }));
    const r = await runZeroShot(openDb(':memory:'), evalOpts(file));
    expect(r.top1).toBe(0);
  });

  it('--limit takes samples spread over every class', async () => {
    const db = openDb(':memory:');
    const r = await runZeroShot(db, { ...evalOpts('colours'), limit: N_CLASSES });
    const labels = [...iteratePredictions(db, r.runId)].map((p) => p.label);
    expect(new Set(labels).size).toBe(N_CLASSES);
  });
});

describe('ImageNet-aware ImageFolder', () => {
  it('WordNet-id folders get ImageNet\'s curated names and 80 templates for exactly those classes', async () => {
    const { cpSync, mkdirSync } = await import('node:fs');
    const root = path.join(tmp, 'wnid-folders');
    // three real ImageNet classes (tench, goldfish, great white shark), filled with demo images
    const wnids = ['n01440764', 'n01443537', 'n01484850'];
    wnids.forEach((w, i) => {
      mkdirSync(path.join(root, w), { recursive: true });
      cpSync(path.join(demo.root, Object.keys(COLOUR_CORNERS)[i]), path.join(root, w), { recursive: true });
    });
    const db = openDb(':memory:');
    const { writeClipArch, fixtureTexts } = await import('../src/fixtures/fixture-models.js');
    const model = path.join(tmp, 'tiny');
    await writeClipArch(model, 'tiny', fixtureTexts(loadPromptSet('colours').templates));
    const r = await runZeroShot(db, { modelDir: model, dataset: 'imagefolder', root, batchSize: 8, workers: 1 });
    expect(r).toMatchObject({ promptSet: 'imagenet', n: 3 * PER_CLASS });
    const { getRun } = await import('../src/store/runs.js');
    expect(getRun(db, r.runId).params).toMatchObject({ classifier: 'imagefolder: 3-class subset of ImageNet', nTemplates: 80 });
    // labels follow the sorted WordNet ids
    expect([...iteratePredictions(db, r.runId)].map((p) => p.label)).toEqual(wnids.flatMap((_, i) => Array(PER_CLASS).fill(i)));
  });
});
