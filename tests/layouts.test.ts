/**
 * The same weights written in every export layout must load, describe themselves correctly and give the
 * same zero-shot predictions; every malformed checkpoint must fail with one line and exit code 2.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeCheckpoint } from '../src/cli/inspect.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import { writeColourDataset } from '../src/fixtures/colour-dataset.js';
import { archTowers, fixtureTexts, toyTowers } from '../src/fixtures/fixture-models.js';
import { FIXTURE_LAYOUTS, writeModelLayout, type FixtureLayout } from '../src/fixtures/model-layouts.js';
import { loadCheckpoint } from '../src/models/checkpoint.js';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { iteratePredictions, type PredictionRow } from '../src/store/runs.js';

let tmp: string;
let root: string;
const texts = fixtureTexts(loadPromptSet('colours').templates);
const kinds = { toy: toyTowers(texts), tiny: archTowers('tiny', texts) };
const modelDir = (kind: string, layout: string) => path.join(tmp, `${kind}-${layout}`);

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-layouts-'));
  root = path.join(tmp, 'colours');
  await writeColourDataset(root, { perClass: 2, seed: 5 });
  for (const [kind, towers] of Object.entries(kinds)) {
    for (const layout of FIXTURE_LAYOUTS) await writeModelLayout(modelDir(kind, layout), towers, layout, { fp16Variant: true });
  }
});

async function predictions(model: string, variant?: string): Promise<PredictionRow[]> {
  const db = openDb(':memory:');
  const r = await runZeroShot(db, { modelDir: model, variant, dataset: 'imagefolder', root, prompts: 'colours', batchSize: 3, workers: 1 });
  return [...iteratePredictions(db, r.runId)];
}

describe.each(Object.keys(kinds))('%s model in every layout', (kind) => {
  let baseline: PredictionRow[];
  beforeAll(async () => {
    baseline = await predictions(modelDir(kind, 'immich'));
  });

  it.each(FIXTURE_LAYOUTS.filter((l) => l !== 'immich'))('%s gives the same top-5 and logits as Immich', async (layout: FixtureLayout) => {
    const preds = await predictions(modelDir(kind, layout));
    expect(preds.map((p) => p.top5)).toEqual(baseline.map((p) => p.top5));
    preds.forEach((p, i) => p.top5Logits!.forEach((l, j) => expect(Math.abs(l - baseline[i].top5Logits![j])).toBeLessThan(2e-3)));
  });

  it('the fp16 variant keeps every top-1 prediction; logits move by float16 rounding only', async () => {
    const preds = await predictions(modelDir(kind, 'hf-split'), 'fp16');
    if (kind === 'toy') expect(preds.map((p) => p.top5![0])).toEqual(baseline.map((p) => p.top5![0]));
    // float16 weights and outputs: ~3 significant digits of a logit of at most 100
    preds.forEach((p, i) => expect(Math.abs(p.top5Logits![0] - baseline[i].top5Logits![0])).toBeLessThan(kind === 'toy' ? 0.2 : 1.5));
  });
});

describe('dynamic sequence length', () => {
  it('a Hugging Face text graph runs only up to the longest <|endoftext|> and pools exactly what the full-length run pools', async () => {
    const full = await loadCheckpoint(modelDir('tiny', 'immich'));
    const cut = await loadCheckpoint(modelDir('tiny', 'hf-split'));
    expect(full.textual.input.shape[1]).toBe(77);
    expect(cut.textual.input.shape[1]).toBe('sequence_length');
    const prompts = [...texts, '', 'red', 'a blurry photo of a magenta object.'];
    const a = await full.encodeTexts(prompts);
    const b = await cut.encodeTexts(prompts);
    await full.release();
    await cut.release();
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
    // the causal mask gives padding positions exactly zero weight; only float summation order may differ
    expect(max).toBeLessThan(1e-5);
  });
});

describe('inspect', () => {
  it.each([
    ['immich', 'immich', 'dynamic', 'image', 'embedding', 'int32'],
    ['immich-batch1', 'immich', 1, 'image', 'embedding', 'int32'],
    ['hf-split', 'hf-split', 'dynamic', 'pixel_values', 'image_embeds', 'int64'],
    ['hf-combined', 'hf-combined', 'dynamic', 'pixel_values', 'image_embeds', 'int64'],
    ['manifest', 'manifest', 'dynamic', 'pixels', 'features', 'int64'],
  ])('%s is detected as %s with batch %s', async (layout, detected, batch, input, output, idType) => {
    const c = await loadCheckpoint(modelDir('tiny', layout));
    const d = describeCheckpoint(c);
    await c.release();
    expect(d).toMatchObject({ layout: detected, variant: 'fp32', embedDim: 32 });
    expect(d.visual.batch).toBe(batch);
    expect(d.visual.uses).toMatchObject({ input, output });
    expect(d.textual.inputs.find((s) => s.name === d.textual.uses.input)?.type).toBe(idType);
    expect(d.tokenizer).toMatchObject({ contextLength: 77 });
    expect(d.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('lists variants, picks fp32 by default and fp16 on request, with float16 I/O', async () => {
    const c = await loadCheckpoint(modelDir('toy', 'hf-split'), { variant: 'fp16' });
    const d = describeCheckpoint(c);
    await c.release();
    expect(d.variants).toEqual(['fp16', 'fp32']);
    expect(d.files).toContain('onnx/vision_model_fp16.onnx');
    expect(d.visual.inputs[0]).toMatchObject({ name: 'pixel_values', type: 'float16' });
  });

  it('the fingerprint covers exactly the files used: another variant or a changed tokenizer changes it', async () => {
    const fp = async (dir: string, variant?: string) => {
      const c = await loadCheckpoint(dir, { variant });
      await c.release();
      return c.fingerprint;
    };
    const dir = modelDir('toy', 'hf-split');
    const a = await fp(dir);
    expect(await fp(dir, 'fp16')).not.toBe(a);
    const copy = path.join(tmp, 'fp-copy');
    cpSync(dir, copy, { recursive: true });
    expect(await fp(copy)).toBe(a);
    writeFileSync(path.join(copy, 'README.md'), 'not part of the model');
    expect(await fp(copy)).toBe(a);
    writeFileSync(path.join(copy, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 77, pad_token: '!' }));
    expect(await fp(copy)).not.toBe(a);
  });
});

function editJson(file: string, edit: (o: Record<string, unknown>) => unknown): void {
  writeFileSync(file, JSON.stringify(edit(JSON.parse(readFileSync(file, 'utf8')))));
}

describe('malformed checkpoints fail with one line and exit code 2', () => {
  const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
  const broken = (name: string, from: string, edit: (dir: string) => void) => {
    const dir = path.join(tmp, `broken-${name}`);
    rmSync(dir, { recursive: true, force: true });
    cpSync(from, dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const cases: [string, () => string[], RegExp][] = [
    ['missing file', () => ['--model', broken('missing', modelDir('toy', 'immich'), (d) => rmSync(path.join(d, 'textual', 'model.onnx')))], /textual\/model\.onnx: Immich layout without textual\/model\.onnx — copy the complete export/],
    ['not an ONNX file', () => ['--model', broken('garbage', modelDir('toy', 'immich'), (d) => writeFileSync(path.join(d, 'visual', 'model.onnx'), 'this is not a protobuf'))], /visual\/model\.onnx: onnxruntime cannot load this model.* — check that the file is a complete ONNX export/],
    ['truncated ONNX file', () => ['--model', broken('truncated', modelDir('toy', 'immich'), (d) => { const f = path.join(d, 'textual', 'model.onnx'); writeFileSync(f, readFileSync(f).subarray(0, 300)); })], /textual\/model\.onnx: onnxruntime cannot load this model/],
    ['embedding sizes differ', () => ['--model', broken('dims', modelDir('toy', 'manifest'), (d) => cpSync(path.join(modelDir('tiny', 'manifest'), 'text_encoder.onnx'), path.join(d, 'text_encoder.onnx')))], /image embeddings have 16 dimensions but text embeddings 32 — the two towers come from different models/],
    ['wrong input rank and dtype', () => ['--model', broken('rank', modelDir('toy', 'manifest'), (d) => editJson(path.join(d, 'clip-bench.json'), (m) => ({ ...m, visual: { file: 'text_encoder.onnx', input: 'tokens', output: 'features' } })))], /text_encoder\.onnx: image input "tokens" is int64\[batch,77\], expected rank 4 float32 or float16/],
    ['tokenizer that is not CLIP BPE', () => ['--model', broken('wordpiece', modelDir('toy', 'hf-split'), (d) => writeFileSync(path.join(d, 'tokenizer.json'), JSON.stringify({ model: { type: 'WordPiece', vocab: { '[UNK]': 0, a: 1 } } })))], /tokenizer\.json: .*(WordPiece|BPE)/],
    ['unknown variant', () => ['--model', modelDir('toy', 'hf-split'), '--variant', 'q4'], /no "q4" variant in this model — pass --variant with one of: fp32, fp16/],
    ['no known layout', () => ['--model', broken('nolayout', modelDir('toy', 'manifest'), (d) => rmSync(path.join(d, 'clip-bench.json')))], /no known CLIP export layout.*found image_encoder\.onnx, text_encoder\.onnx — describe the two ONNX files in a clip-bench\.json manifest/],
  ];
  it.each(cases)('%s', (_name, args, message) => {
    const r = spawnSync(process.execPath, [bin, 'inspect', ...args()], { encoding: 'utf8' });
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(2);
  });
});
