/**
 * Where each preprocessing setting comes from (file and key, a processor class's default, or the OpenAI
 * defaults when there is no config), the SigLIP2 filter note, and what `inspect` and `eval` say about
 * them. The expected sources are the files this test writes, so each check can fail.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatEvalResult } from '../src/cli/eval.js';
import { writeColourDataset } from '../src/fixtures/colour-dataset.js';
import { fixtureTexts, toyTowers } from '../src/fixtures/fixture-models.js';
import { writeModelLayout } from '../src/fixtures/model-layouts.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import { loadSourcedPreprocessFromDir, readHfPreprocessorConfig, readOpenClipPreprocessCfg } from '../src/models/preprocess/index.js';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { getRun } from '../src/store/runs.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-sources-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function folder(name: string, files: Record<string, unknown>): string {
  const dir = path.join(tmp, name);
  for (const [f, v] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), JSON.stringify(v));
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('sources of each setting', () => {
  it('open_clip: stated keys by file and key, absent ones as open_clip defaults', () => {
    const { sources } = readOpenClipPreprocessCfg({ size: 256, interpolation: 'bilinear' }, '/m/visual/preprocess_cfg.json', { label: 'visual/preprocess_cfg.json' });
    expect(sources.size).toBe('visual/preprocess_cfg.json "size"');
    expect(sources.interpolation).toBe('visual/preprocess_cfg.json "interpolation"');
    expect(sources.resizeMode).toBe('open_clip default shortest (no "resize_mode" in visual/preprocess_cfg.json)');
    expect(sources.mean).toBe('OpenAI CLIP mean (no "mean" in visual/preprocess_cfg.json)');
    expect(sources.pipeline).toMatch(/^reference:/);
  });

  it('Hugging Face SiglipImageProcessor: resample from the file, an absent mean from the class default', () => {
    const { config, sources } = readHfPreprocessorConfig({ image_processor_type: 'SiglipImageProcessor', resample: 2, size: { height: 384, width: 384 } }, '/m/preprocessor_config.json', { label: 'preprocessor_config.json' });
    expect(config).toMatchObject({ size: 384, interpolation: 'bilinear', resizeMode: 'squash', mean: [0.5, 0.5, 0.5] });
    expect(sources.interpolation).toBe('preprocessor_config.json "resample" (PIL 2)');
    expect(sources.mean).toBe('SiglipImageProcessor default (no "image_mean" in preprocessor_config.json)');
    expect(sources.resizeMode).toMatch(/SiglipImageProcessor \(resizes to height × width, no crop\)/);
  });

  it('no config: the OpenAI defaults, said so', () => {
    const { config, sources } = loadSourcedPreprocessFromDir(folder('bare', {}));
    expect(config.interpolation).toBe('bicubic');
    expect(sources.interpolation).toBe('OpenAI CLIP defaults (no config)');
    expect(sources.filterNote).toBeUndefined();
  });

  it.each([224, 256, 384, 512])('size %i from either ecosystem', (size) => {
    const oc = loadSourcedPreprocessFromDir(folder(`oc-${size}`, { 'visual/preprocess_cfg.json': { size: [size, size], interpolation: 'bicubic', resize_mode: 'squash', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } }));
    const hf = loadSourcedPreprocessFromDir(folder(`hf-${size}`, { 'preprocessor_config.json': { image_processor_type: 'SiglipImageProcessor', resample: 3, size: { height: size, width: size } } }));
    expect([oc.config.size, hf.config.size]).toEqual([size, size]);
    expect([oc.config.resizeMode, hf.config.resizeMode]).toEqual(['squash', 'squash']);
  });
});

describe('SigLIP2: which filter, from where, and the other ecosystem', () => {
  it('an open_clip / Immich export named *SigLIP2*: bicubic from its config; Hugging Face uses bilinear', () => {
    const dir = folder('ViT-B-16-SigLIP2__webli', { 'visual/preprocess_cfg.json': { size: [256, 256], interpolation: 'bicubic', resize_mode: 'squash', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } });
    const note = loadSourcedPreprocessFromDir(dir).sources.filterNote;
    expect(note).toBe('SigLIP2: bicubic from visual/preprocess_cfg.json "interpolation"; the ecosystems disagree: Hugging Face SigLIP2 exports use bilinear');
  });

  it('a Hugging Face export (config.json model_type siglip2): bilinear from resample; open_clip and Immich use bicubic', () => {
    const dir = folder('hf-s2', { 'config.json': { model_type: 'siglip2' }, 'preprocessor_config.json': { image_processor_type: 'SiglipImageProcessor', resample: 2, size: { height: 512, width: 512 } } });
    const note = loadSourcedPreprocessFromDir(dir).sources.filterNote;
    expect(note).toBe('SigLIP2: bilinear from preprocessor_config.json "resample" (PIL 2); the ecosystems disagree: open_clip and Immich exports of SigLIP2 use bicubic');
  });

  it('not SigLIP2: no note', () => {
    const dir = folder('ViT-B-16-SigLIP__webli', { 'visual/preprocess_cfg.json': { size: 224, interpolation: 'bicubic' } });
    expect(loadSourcedPreprocessFromDir(dir).sources.filterNote).toBeUndefined();
  });
});

describe('inspect and eval say which filter is used and where it came from', () => {
  const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
  let model: string;
  beforeAll(async () => {
    model = path.join(tmp, 'toy-immich');
    await writeModelLayout(model, toyTowers(fixtureTexts(loadPromptSet('colours').templates)), 'immich');
  });

  it('inspect --json and text, with --convention immich', () => {
    const r = spawnSync(process.execPath, [bin, 'inspect', '--model', model, '--convention', 'immich', '--json'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const d = JSON.parse(r.stdout);
    expect(d.preprocessSources).toMatchObject({ interpolation: 'visual/preprocess_cfg.json "interpolation"', pipeline: expect.stringMatching(/^immich:/) });
    expect(d.preprocess).toMatchObject({ convertRgbFirst: true, cropRounding: 'floor', longSide: 'immich', normalization: 'immich' });
    expect(d.scoring).toMatchObject({ link: 'softmax', scale: 100, origin: 'family' });
    const text = spawnSync(process.execPath, [bin, 'inspect', '--model', model], { encoding: 'utf8' }).stdout;
    expect(text).toContain('filter bicubic from visual/preprocess_cfg.json "interpolation"');
    expect(text).toMatch(/scoring +softmax\(100·cos\)/);
  });

  it.each([
    ['--logit-bias on a CLIP checkpoint', ['eval', '--dataset', 'imagefolder', '--logit-bias', '-10'], /--logit-bias has no effect on a softmax link/],
    ['--convention immich without an Immich config', ['eval', '--dataset', 'imagefolder', '--convention', 'immich'], /--convention immich .* needs visual\/preprocess_cfg.json/],
  ])('%s: one line, exit 2, no DB written', async (_, args, message) => {
    const root = path.join(tmp, 'colours-bad');
    await writeColourDataset(root, { perClass: 1, seed: 3 });
    const bare = path.join(tmp, 'toy-manifestless');
    await writeModelLayout(bare, toyTowers(fixtureTexts(loadPromptSet('colours').templates)), 'hf-split');
    rmSync(path.join(bare, 'preprocessor_config.json'), { force: true });
    const db = path.join(tmp, `bad-${args.length}-${args.at(-1)}.sqlite`);
    const modelArg = args.includes('immich') ? bare : model;
    const r = spawnSync(process.execPath, [bin, ...args, '--model', modelArg, '--root', root, '--prompts', 'colours', '--db', db, '--quiet'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(db)).toBe(false);
  });

  it('eval stores the sources and the link with the run and prints them', async () => {
    const root = path.join(tmp, 'colours');
    await writeColourDataset(root, { perClass: 1, seed: 3 });
    const db = openDb(':memory:');
    const r = await runZeroShot(db, { modelDir: model, dataset: 'imagefolder', root, prompts: 'colours', batchSize: 4, workers: 1 });
    const params = getRun(db, r.runId).params;
    db.close();
    expect(params.preprocessSources).toMatchObject({ interpolation: 'visual/preprocess_cfg.json "interpolation"' });
    expect(params.scoring).toMatchObject({ link: 'softmax', scale: 100, bias: 0 });
    const out = formatEvalResult(r);
    expect(out).toContain('preprocessing: filter bicubic from visual/preprocess_cfg.json "interpolation"');
    expect(out).toContain("confidence: softmax(100·cos); CLIP: softmax over the classes at OpenAI's logit scale of 100");
  });
});
