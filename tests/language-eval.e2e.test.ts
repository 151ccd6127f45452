/**
 * `clip-bench eval --language` end to end through the built CLI, on an ImageNet fixture (WordNet-id folders) and a
 * tiny random-weight CLIP: Babel-ImageNet's subset run against an independent route to the same classifier (an
 * ImageFolder of just those classes with the same names and templates, through the existing subset plan), the
 * language in the run's identity and in the reports, and the refusals.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeClipArch } from '../src/fixtures/fixture-models.js';
import { packageRoot } from '../src/paths.js';
import { dirs, W, write } from './support/imagenet-fixtures.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
let work: string;
let model: string;
let imagenetRoot: string;
let subsetRoot: string;
let babelFile: string;
let sameNames: string;

const NAMES: Record<number, string> = { 0: 'tanche', 2: 'grand requin blanc', 999: 'papier toilette' };
const TEMPLATES = ["Une mauvaise photo d'un  {} .", 'une sculpture de {}'];
const KEPT = [0, 2, 999];

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Prediction = { key: string; label: number; top5: number[]; top5_logits?: number[]; top5Logits?: number[] };
function predictions(db: string, runId: number): Map<string, Prediction> {
  const p = cli(['predictions', '--run', String(runId), '--db', db]);
  expect(p.code).toBe(0);
  return new Map(p.stdout.trim().split('\n').map((l) => JSON.parse(l) as Prediction).map((row) => [row.key, row]));
}

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
  work = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-language-e2e-'));
  // two images per class, of different colours, so the classes' scores differ from image to image
  const jpeg = (r: number, g: number, b: number) => sharp({ create: { width: 40, height: 30, channels: 3, background: { r, g, b } } }).jpeg().toBuffer();
  const pics = await Promise.all([jpeg(200, 90, 40), jpeg(20, 160, 220), jpeg(240, 240, 10), jpeg(90, 10, 120)]);
  imagenetRoot = path.join(work, 'imagenet');
  subsetRoot = path.join(work, 'subset');
  dirs(imagenetRoot, W);
  [...KEPT, 5].forEach((c, i) => {
    for (const [j, name] of ['a.JPEG', 'b.JPEG'].entries()) {
      write(imagenetRoot, `${W[c]}/${name}`, pics[(i + j) % pics.length]);
      if (c !== 5) write(subsetRoot, `${W[c]}/${name}`, pics[(i + j) % pics.length]);
    }
  });
  // Babel-ImageNet's files, in their format: French names for ImageNet labels 0, 2, 999; Breton without templates
  const babel = path.join(work, 'languages');
  mkdirSync(babel);
  babelFile = path.join(babel, 'babel_imagenet.json');
  writeFileSync(babelFile, JSON.stringify({ FR: [KEPT, KEPT.map((c) => NAMES[c])], BR: [[1], ['pesk aour']] }));
  writeFileSync(path.join(babel, 'nllb_dist13b_prompts.json'), JSON.stringify({ FR: TEMPLATES }));
  // the same classifier written as one of our prompt sets, keyed by WordNet id
  sameNames = path.join(work, 'same-names.json');
  writeFileSync(sameNames, JSON.stringify({ id: 'same-names', classes: Object.fromEntries(KEPT.map((c) => [W[c], NAMES[c]])), templates: TEMPLATES.map((t) => t.replace('{}', '{c}')) }));
  const texts = KEPT.flatMap((c) => TEMPLATES.map((t) => t.replace('{}', NAMES[c])));
  model = path.join(work, 'model');
  mkdirSync(model);
  await writeClipArch(model, 'tiny', texts);
}, 300_000);

describe('eval --dataset imagenet --prompts babel-imagenet --language fr', () => {
  it('scores the language\'s classes only, leaving the other classes\' samples out, exactly as a classifier of those classes alone', () => {
    const db = path.join(work, 'babel.sqlite');
    const env = { CLIP_BENCH_LANGUAGES: path.dirname(babelFile) };
    const r = cli(['eval', '--model', model, '--dataset', 'imagenet', '--root', imagenetRoot, '--prompts', 'babel-imagenet', '--language', 'FR', '--db', db, '--json', '--quiet'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const babel = JSON.parse(r.stdout) as { runId: number; language: string; promptSet: string; promptHash: string; nClasses: number; n: number; nFailed: number };
    expect(babel).toMatchObject({ language: 'fr', promptSet: 'babel-imagenet', nClasses: 3, n: 6, nFailed: 0 });
    const got = predictions(db, babel.runId);
    // W[5]'s images are not scored; the others are labelled by their class's place among the three
    expect([...got.keys()].sort()).toEqual(KEPT.flatMap((c) => [`${W[c]}/a.JPEG`, `${W[c]}/b.JPEG`]).sort());
    for (const [key, row] of got) expect(row.label).toBe(KEPT.indexOf(W.indexOf(key.split('/')[0])));

    // The independent route: an ImageFolder of the three classes with the same names and templates.
    const s = cli(['eval', '--model', model, '--dataset', 'imagefolder', '--root', subsetRoot, '--prompts', sameNames, '--db', db, '--json', '--quiet']);
    expect(s.stderr).toBe('');
    const plain = JSON.parse(s.stdout) as { runId: number; promptHash: string; language?: string };
    expect(plain.promptHash).toBe(babel.promptHash); // the same names and templates, in the same class order
    expect(plain.language).toBeUndefined();
    const want = predictions(db, plain.runId);
    expect(got.size).toBe(want.size);
    for (const [key, row] of want) {
      const b = got.get(key)!;
      expect(b.label).toBe(row.label);
      expect(b.top5).toEqual(row.top5);
      expect(b.top5_logits ?? b.top5Logits).toEqual(row.top5_logits ?? row.top5Logits);
    }
  });

  it('the language is part of the identity and shown in the reports: the same prompts in fr are another run, another column', () => {
    const db = path.join(work, 'identity.sqlite');
    const base = ['eval', '--model', model, '--dataset', 'imagefolder', '--root', subsetRoot, '--prompts', sameNames, '--db', db, '--json', '--quiet'];
    const plain = JSON.parse(cli(base).stdout) as { runId: number; promptHash: string };
    const fr = cli([...base, '--language', 'fr']);
    expect(fr.stderr).toBe('');
    const frRun = JSON.parse(fr.stdout) as { runId: number; promptHash: string; language: string; resumed: boolean };
    expect(frRun.runId).not.toBe(plain.runId);
    expect(frRun).toMatchObject({ language: 'fr', resumed: false, promptHash: plain.promptHash });

    const report = JSON.parse(cli(['report', '--format', 'json', '--db', db]).stdout) as { columns: string[]; runs: { runId: number; language: string | null }[]; rows: { cells: ({ language: string | null } | null)[] }[] };
    expect(report.columns).toEqual(expect.arrayContaining([expect.stringContaining('language fr'), expect.stringContaining("dataset's language")]));
    expect(report.runs.find((x) => x.runId === frRun.runId)?.language).toBe('fr');
    expect(report.runs.find((x) => x.runId === plain.runId)?.language).toBeNull();
    expect(cli(['report', '--db', db]).stdout).toContain('language fr');

    const text = cli(['compare', '--runs', `${plain.runId},${frRun.runId}`, '--db', db]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`not the same setting: language fr (run ${frRun.runId}) vs dataset's language (run ${plain.runId})`);
    expect(text.stdout).toContain("language fr matches dataset's language"); // the same names and templates: the same predictions
  });
});

describe('eval --language refusals: one line naming the file and the fix, exit 2, nothing written', () => {
  it.each([
    ['a language Babel-ImageNet lacks', ['--prompts', 'BABEL', '--language', 'de'], /babel_imagenet\.json: Babel-ImageNet has no language "DE" — pass --language with one of its 2 languages: br, fr/],
    ['names without templates', ['--prompts', 'BABEL', '--language', 'br'], /nllb_dist13b_prompts\.json: Babel-ImageNet has no templates in language "BR"/],
    ['no language for a multi-language file', ['--prompts', 'BABEL'], /no --language was given — add --language/],
    ['no CLIP_benchmark files for the language', ['--language', 'it'], /no class names in language it: it_classnames\.json is not in this folder/],
    ['a built-in English set with another language', ['--prompts', 'imagenet', '--language', 'it'], /prompt set "imagenet" \(configs\/prompts\) is in English, not in language it/],
    ['a malformed language code', ['--language', 'fr-FR!'], /--language takes a language code such as fr/],
  ])('%s', (_what, extra, message) => {
    const db = path.join(work, `refused-${_what.replaceAll(' ', '-')}.sqlite`);
    const args = extra.map((x) => (x === 'BABEL' ? babelFile : x));
    const r = cli(['eval', '--model', model, '--dataset', 'imagenet', '--root', imagenetRoot, ...args, '--db', db, '--quiet'], { CLIP_BENCH_LANGUAGES: path.join(work, 'languages') });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(db)).toBe(false);
  });
});
