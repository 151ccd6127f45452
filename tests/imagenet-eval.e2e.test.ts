/**
 * `clip-bench eval --dataset <imagenet family> --root PATH` through the built CLI, on fixtures written in
 * every native layout: each run finishes and stores, per sample, the label the layout's own annotation says.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeClipArch } from '../src/fixtures/fixture-models.js';
import { packageRoot } from '../src/paths.js';
import { imagenetSubsetWnids } from '../src/datasets/wnids.js';
import { loadPromptSet, resolvePrompts } from '../src/prompts/prompt-set.js';
import { dirs, GT, metaMat, objectnetMappings, perm, tmp, valName, W, write } from './support/imagenet-fixtures.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
let work: string;
let model: string;
let prompts: string;
let db: string;
let jpeg: Buffer;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Real (tiny) JPEGs, so every sample decodes and is scored. */
function images(root: string, rels: readonly string[]): void {
  for (const rel of rels) write(root, rel, jpeg);
}

/** Runs eval by dataset name and returns key → stored label of the run's predictions. */
function evalLabels(dataset: string, root: string): Map<string, number> {
  const r = cli(['eval', '--model', model, '--dataset', dataset, '--root', root, '--prompts', prompts, '--db', db, '--json', '--quiet']);
  expect(r.stderr, `${dataset} failed`).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { runId: number; nFailed: number; dataset: string };
  expect(out.dataset).toBe(dataset);
  expect(out.nFailed).toBe(0);
  const p = cli(['predictions', '--run', String(out.runId), '--db', db]);
  expect(p.code).toBe(0);
  const rows = p.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; label: number; top5: number[] });
  for (const row of rows) expect(row.top5.length).toBeGreaterThan(0); // scored, not failed
  return new Map(rows.map((row) => [row.key, row.label]));
}

/** ImageNet's curated names with the bare-name template: what `classname` must resolve to on ImageNet. */
function bareNames(): string {
  const f = path.join(work, 'imagenet-bare-names.json');
  writeFileSync(f, JSON.stringify({ id: 'imagenet-bare-names', include: 'imagenet', templates: ['{c}'] }));
  return f;
}

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
  work = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-imagenet-e2e-'));
  jpeg = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 90, b: 40 } } }).jpeg().toBuffer();
  // ImageNet's curated names with one template: 1000 prompts keep the text side quick on a tiny model.
  prompts = path.join(work, 'imagenet-one-template.json');
  writeFileSync(prompts, JSON.stringify({ id: 'imagenet-one-template', include: 'imagenet', templates: ['a photo of a {c}.'] }));
  // the bare names too, for the ablation's classname row
  const texts = [...resolvePrompts(loadPromptSet(prompts), W, 'imagenet').texts, ...resolvePrompts(loadPromptSet(bareNames()), W, 'imagenet').texts];
  model = path.join(work, 'model');
  mkdirSync(model);
  await writeClipArch(model, 'tiny', texts);
  db = path.join(work, 'runs.sqlite');
}, 300_000);

describe('eval --dataset imagenet on each validation layout', () => {
  it('(a) WordNet-id folders: label = the wnid index', () => {
    const root = tmp('e2e-in-a');
    dirs(root, W);
    images(root, [`${W[0]}/a.JPEG`, `${W[500]}/b.JPEG`, `${W[999]}/c.JPEG`]);
    expect(evalLabels('imagenet', root)).toEqual(new Map([[`${W[0]}/a.JPEG`, 0], [`${W[500]}/b.JPEG`, 500], [`${W[999]}/c.JPEG`, 999]]));
  });

  it('(b) flat ILSVRC2012_val_* + devkit ground truth: ILSVRC2012_IDs mapped through meta.mat', () => {
    const root = tmp('e2e-in-b');
    images(root, GT.map((_, i) => valName(i + 1)));
    write(root, 'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt', GT.join('\n') + '\n');
    write(root, 'ILSVRC2012_devkit_t12/data/meta.mat', metaMat(true));
    const expected = new Map(GT.map((id, i) => [valName(i + 1), perm(id)]));
    expect(expected.get(valName(1))).toBe(278); // ILSVRC2012_ID 1 is kit fox, class 278: ids are not class indices
    expect(evalLabels('imagenet', root)).toEqual(expected);
  });

  it("(c) flat images + Kaggle's LOC_val_solution.csv: the first wnid of each row", () => {
    const root = tmp('e2e-in-c');
    const rows: [number, number][] = [[1, 7], [2, 0], [3, 999]];
    images(root, rows.map(([n]) => valName(n)));
    write(root, 'LOC_val_solution.csv', ['ImageId,PredictionString', ...rows.map(([n, c]) => `${valName(n).slice(0, -5)},${W[c]} 1 2 30 40 ${W[(c + 1) % 1000]} 3 4 5 6`)].join('\n') + '\n');
    expect(evalLabels('imagenet', root)).toEqual(new Map(rows.map(([n, c]) => [valName(n), c])));
  });
});

describe('eval on the distribution-shift siblings', () => {
  it('imagenet-v2: folder integers are class indices', () => {
    const root = tmp('e2e-v2');
    dirs(root, Array.from({ length: 1000 }, (_, i) => String(i)));
    images(root, ['2/x.jpeg', '10/y.jpeg', '999/z.jpeg']);
    expect(evalLabels('imagenet-v2', root)).toEqual(new Map([['2/x.jpeg', 2], ['10/y.jpeg', 10], ['999/z.jpeg', 999]]));
  });

  it('imagenet-sketch: wnid folders under sketch/', () => {
    const root = tmp('e2e-sketch');
    dirs(path.join(root, 'sketch'), W);
    images(root, [`sketch/${W[3]}/s.JPEG`, `sketch/${W[998]}/t.JPEG`]);
    expect(evalLabels('imagenet-sketch', root)).toEqual(new Map([[`${W[3]}/s.JPEG`, 3], [`${W[998]}/t.JPEG`, 998]]));
  });

  for (const dataset of ['imagenet-r', 'imagenet-a']) {
    it(`${dataset}: 200 wnid folders, labels are positions among them (the 200-class classifier)`, () => {
      const root = tmp(`e2e-${dataset}`);
      const subset = imagenetSubsetWnids(dataset, 200); // the canonical 200 folders; anything else is refused
      dirs(root, subset);
      images(root, [`${subset[0]}/a.jpg`, `${subset[199]}/b.jpg`, `${subset[77]}/c.jpg`]);
      expect(evalLabels(dataset, root)).toEqual(new Map([[`${subset[0]}/a.jpg`, 0], [`${subset[77]}/c.jpg`, 77], [`${subset[199]}/b.jpg`, 199]]));
    });
  }

  it("ablation --prompts <80→1 template>,single,classname: single and classname use the notebook's names, not the wnids", () => {
    const root = tmp('e2e-ablation');
    dirs(root, W);
    images(root, [`${W[0]}/a.JPEG`, `${W[1]}/b.JPEG`]);
    const r = cli(['ablation', '--model', model, '--dataset', 'imagenet', '--root', root, '--prompts', `${prompts},single,classname`, '--db', db, '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = (JSON.parse(r.stdout) as { rows: { promptSet: string; promptHash: string }[] }).rows;
    expect(rows.map((x) => x.promptSet)).toEqual(['imagenet-one-template', 'single', 'classname']);
    // "a photo of a {c}." with ImageNet's names is exactly the one-template set: the same classifier inputs, the same hash
    expect(rows[1].promptHash).toBe(rows[0].promptHash);
    expect(rows[2].promptHash).toBe(resolvePrompts(loadPromptSet(bareNames()), W, 'imagenet').hash);
  });

  it('objectnet: ObjectNet folders mapped to ImageNet classes, unmapped folders skipped', () => {
    const root = tmp('e2e-objectnet');
    objectnetMappings(root);
    images(root, ['images/air_freshener/1.png', 'images/alarm_clock/a.png', 'images/bicycle/b.png', 'images/chair/c.png']);
    dirs(root, ['images/backpack']);
    expect(evalLabels('objectnet', root)).toEqual(new Map([['alarm_clock/a.png', 0], ['bicycle/b.png', 2], ['chair/c.png', 3]]));
  });
});
