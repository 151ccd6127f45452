/**
 * `clip-bench eval` end to end on random-weight family fixtures (src/fixtures/siglip-layouts.ts,
 * xlmr-layouts.ts) with the shared sentencepiece tokenizers: the class prompts are golden texts of
 * spm/ (README there), so the rows the text tower must be fed are the golden ones; the stored top-5 and
 * logits must match the fixture's float64 forward pass (tests/support/*-forward.ts) on those rows and on
 * the preprocessed pixels. Logits may use any increasing affine link of the cosine (100·cos, or SigLIP's
 * exp(scale)·cos + bias): the test fits it on the run and checks every stored logit against it.
 * NLLB: the same through `eval --language fr`, its rows at the checkpoint, and its refusal without a language.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/fixtures/random.js';
import { writeSiglipFixture, type SiglipLayout } from '../src/fixtures/siglip-layouts.js';
import { readTokenizerFiles, type TokenizerFiles } from '../src/fixtures/toy-unigram.js';
import { writeMclipFixture, writeNllbFixture } from '../src/fixtures/xlmr-layouts.js';
import { loadCheckpoint } from '../src/models/checkpoint.js';
import { preprocessImage } from '../src/models/preprocess/index.js';
import { packageRoot } from '../src/paths.js';
import { reference, referencePath } from './support/reference.js';
import { visualForward } from './support/clip-forward.js';
import { siglipTextForward, siglipVisionForward } from './support/siglip-forward.js';
import { xlmrTextForward } from './support/xlmr-forward.js';

interface GoldenRow {
  text: string;
  ids: number[];
  attention_mask: number[];
  open_clip_ids: number[];
}

interface Prediction {
  label: number;
  top5: number[];
  top5_logits: number[];
}

const spm = reference('spm', 'family end-to-end evals with the sentencepiece tokenizers');
const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-family-e2e-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const golden = (dir: string): Map<string, GoldenRow> =>
  new Map(gunzipSync(readFileSync(referencePath('spm', dir, 'tokens-public.jsonl.gz'))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as GoldenRow).map((r) => [r.text, r]));

/** Class names whose prompt `a photo of a {c}.` is a golden text. */
const CLASSES = ['tiger shark', 'hammerhead shark', 'stingray', 'rooster', 'hen'];
const TEMPLATE = 'a photo of a {c}.';

/** An ImageFolder of random-noise PNGs of odd sizes, two per class; returns the files in ImageFolder's order. */
async function writeImageFolder(root: string): Promise<{ file: string; label: number }[]> {
  const rand = mulberry32(11);
  const out: { file: string; label: number }[] = [];
  const sorted = [...CLASSES].sort();
  for (const [label, c] of sorted.entries()) {
    mkdirSync(path.join(root, c), { recursive: true });
    for (let i = 0; i < 2; i++) {
      const [w, h] = [23 + i * 7, 31 - i * 5];
      const px = Buffer.from(Array.from({ length: w * h * 3 }, () => Math.floor(rand() * 256)));
      const file = path.join(root, c, `${i}.png`);
      await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
      out.push({ file, label });
    }
  }
  return out;
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmp });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const prompts = () => {
  const file = path.join(tmp, 'prompts.json');
  writeFileSync(file, JSON.stringify({ id: 'golden', description: 'texts of the spm golden rows', classes: Object.fromEntries(CLASSES.map((c) => [c, c])), templates: [TEMPLATE] }));
  return file;
};

/** `clip-bench eval` of `model` on a fresh ImageFolder; the images (in sample order) and the stored predictions. */
async function evalRun(model: string, name: string): Promise<{ images: { file: string; label: number }[]; lines: Prediction[] }> {
  const root = path.join(tmp, `images-${name}`);
  const images = await writeImageFolder(root);
  const db = path.join(tmp, `${name}.sqlite`);
  cli(['eval', '--model', model, '--dataset', 'imagefolder', '--root', root, '--prompts', prompts(), '--db', db, '--json']);
  const lines = cli(['predictions', '--run', '1', '--db', db, '--format', 'jsonl']).trim().split('\n').map((l) => JSON.parse(l) as Prediction);
  return { images, lines };
}

const CLASS_ORDER = [...CLASSES].sort();
const promptOf = (c: string) => TEMPLATE.replace('{c}', c);

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

/** Every stored top-5 and logit against the float64 cosines: same order, and logits = a·cos + b for one a > 0, b. */
function checkPredictions(lines: Prediction[], cos: number[][], classOrder: string[]) {
  expect(lines).toHaveLength(cos.length);
  const pairs: [number, number][] = [];
  lines.forEach((l, i) => {
    const want = classOrder.map((_, c) => c).sort((a, b) => cos[i][b] - cos[i][a]).slice(0, 5);
    expect(l.top5, `image ${i}`).toEqual(want);
    l.top5.forEach((c, k) => pairs.push([cos[i][c], l.top5_logits[k]]));
  });
  const [lo, hi] = [pairs.reduce((m, p) => (p[0] < m[0] ? p : m)), pairs.reduce((m, p) => (p[0] > m[0] ? p : m))];
  const a = (hi[1] - lo[1]) / (hi[0] - lo[0]);
  const b = lo[1] - a * lo[0];
  expect(a).toBeGreaterThan(0);
  for (const [c, logit] of pairs) expect(Math.abs(logit - (a * c + b))).toBeLessThan(1e-4 * Math.max(1, Math.abs(a)));
}

/** Cosines (float64) of each image's embedding with each text embedding. */
const cosines = (images: Float64Array[], texts: Float64Array[]) => images.map((v) => texts.map((t) => dot(t, v)));

describe.skipIf(!spm.present)('SigLIP end to end: eval on an ImageFolder = float64 forward on the golden 64-token rows', () => {
  const siglipTok = () => readTokenizerFiles(referencePath('spm', 'siglip-style'));

  it.each(['immich', 'immich-batch1'] as SiglipLayout[])('%s (text int32 [·,64], open_clip config: canonicalize)', async (layout) => {
    const model = path.join(tmp, `siglip-${layout}`);
    const fx = await writeSiglipFixture(model, layout, [], { tokenizer: siglipTok() });
    const { images, lines } = await evalRun(model, `siglip-${layout}`);
    // the oracle: golden open_clip rows (Immich's config.json asks for canonicalize), 64 long, and the preprocessed pixels
    const rows = golden('siglip-style');
    const text = CLASS_ORDER.map((c) => {
      const row = rows.get(promptOf(c));
      expect(row, c).toBeDefined();
      expect(row!.open_clip_ids).toHaveLength(64);
      return siglipTextForward(fx.weights, row!.open_clip_ids).embedding;
    });
    const ckpt = await loadCheckpoint(model);
    await ckpt.release();
    const pixels = await Promise.all(images.map((im) => preprocessImage(im.file, ckpt.preprocess)));
    checkPredictions(lines, cosines(pixels.map((p) => siglipVisionForward(fx.weights, p).embedding), text), CLASS_ORDER);
  });

  it.each(['hf-split', 'hf-combined'] as SiglipLayout[])('%s: a dynamic sequence axis is still fed all 64 positions (golden ids, no open_clip cleaning)', async (layout) => {
    const model = path.join(tmp, `siglip-${layout}`);
    const fx = await writeSiglipFixture(model, layout, [], { tokenizer: siglipTok() });
    const { images, lines } = await evalRun(model, `siglip-${layout}`);
    const rows = golden('siglip-style');
    const fed = CLASS_ORDER.map((c) => rows.get(promptOf(c))!.ids);
    const ckpt = await loadCheckpoint(model);
    await ckpt.release();
    const pixels = await Promise.all(images.map((im) => preprocessImage(im.file, ckpt.preprocess)));
    const imageEmb = pixels.map((p) => siglipVisionForward(fx.weights, p).embedding);
    const cosOf = (texts: number[][]) => cosines(imageEmb, texts.map((ids) => siglipTextForward(fx.weights, ids).embedding));
    const full = cosOf(fed);
    checkPredictions(lines, full, CLASS_ORDER);
    expect([ckpt.family, ckpt.cutsTextToLongest, ckpt.textual.input.shape[1]]).toEqual(['siglip', false, 'sequence_length']);
    // the control: rows cut to the longest prompt (what a CLIP-style feed would do) give other cosines
    const longest = Math.max(...fed.map((ids) => ids.indexOf(1) + 1));
    expect(longest).toBeLessThan(64);
    const cut = cosOf(fed.map((ids) => ids.slice(0, longest))).flat();
    expect(Math.max(...full.flat().map((c, i) => Math.abs(c - cut[i])))).toBeGreaterThan(1e-3);
  });
});

describe.skipIf(!spm.present)('M-CLIP end to end (Immich: input_ids + attention_mask [1,77], mean pooling)', () => {
  it.each([['embedding', false], ['text_embedding', true]] as const)('output %s, dynamic batch %s: eval = float64 forward on the golden XLM-R rows and masks', async (textOutput, dynamicBatch) => {
    const model = path.join(tmp, `mclip-${textOutput}`);
    const fx = await writeMclipFixture(model, [], { tokenizer: readTokenizerFiles(referencePath('spm', 'xlmr-style')), textOutput, dynamicBatch });
    const { images, lines } = await evalRun(model, `mclip-${textOutput}`);
    const rows = golden('xlmr-style');
    const text = CLASS_ORDER.map((c) => {
      const r = rows.get(promptOf(c))!;
      expect(r.ids).toHaveLength(77);
      return xlmrTextForward(fx.text, r.ids, r.attention_mask).embedding;
    });
    const ckpt = await loadCheckpoint(model);
    await ckpt.release();
    expect([ckpt.family, ckpt.textual.mask?.name]).toEqual(['xlmr', 'attention_mask']);
    const pixels = await Promise.all(images.map((im) => preprocessImage(im.file, ckpt.preprocess)));
    checkPredictions(lines, cosines(pixels.map((p) => visualForward(fx.visual, p)), text), CLASS_ORDER);
  });
});

describe.skipIf(!spm.present)('NLLB-CLIP (Immich, `text` only, mask = ids ≠ pad inside the graph): rows start with the FLORES-200 code', () => {
  /** The xlmr-style tokenizer as an NLLB one: language codes as added tokens after the vocabulary. */
  function nllbTokenizer(): { files: TokenizerFiles; ids: Record<string, number> } {
    const base = readTokenizerFiles(referencePath('spm', 'xlmr-style'));
    const json = structuredClone(base.json) as { added_tokens: Record<string, unknown>[] };
    const ids = { eng_Latn: 8002, fra_Latn: 8003 };
    for (const [content, id] of Object.entries(ids)) json.added_tokens.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    return { files: { json, config: { ...base.config, tokenizer_class: 'NllbTokenizerFast' }, specialTokensMap: { ...base.specialTokensMap, additional_special_tokens: Object.keys(ids) } }, ids };
  }

  it.each([['fr', 'fra_Latn'], ['eng_Latn', 'eng_Latn']] as const)('--language %s: embeddings = float64 forward on the golden XLM-R rows with %s first', async (language, code) => {
    const model = path.join(tmp, `nllb-${language}`);
    const tok = nllbTokenizer();
    const fx = await writeNllbFixture(model, [], { tokenizer: tok.files });
    const rows = golden('xlmr-style');
    const texts = CLASSES.map((c) => TEMPLATE.replace('{c}', c));
    const ckpt = await loadCheckpoint(model, { language });
    try {
      expect([ckpt.family, ckpt.textTokenizer.template, ckpt.textual.mask]).toEqual(['nllb', `${code} X </s>`, undefined]);
      const got = await ckpt.encodeTexts(texts);
      const E = fx.text.config.embedDim;
      texts.forEach((t, i) => {
        const g = rows.get(t)!;
        const ids = [tok.ids[code], ...g.ids.slice(1)];
        const want = xlmrTextForward(fx.text, ids, g.attention_mask).embedding;
        expect(Math.max(...Array.from(want, (v, k) => Math.abs(v - got[i * E + k]))), t).toBeLessThan(2e-5);
      });
    } finally {
      await ckpt.release();
    }
  });

  it('eval --language fr on an ImageFolder: stored top-5 and logits = float64 forward on the fra_Latn rows', async () => {
    const model = path.join(tmp, 'nllb-eval');
    const tok = nllbTokenizer();
    const fx = await writeNllbFixture(model, [], { tokenizer: tok.files });
    const root = path.join(tmp, 'images-nllb-eval');
    const images = await writeImageFolder(root);
    const db = path.join(tmp, 'nllb-eval.sqlite');
    cli(['eval', '--model', model, '--dataset', 'imagefolder', '--root', root, '--prompts', prompts(), '--language', 'fr', '--db', db, '--json']);
    const lines = cli(['predictions', '--run', '1', '--db', db, '--format', 'jsonl']).trim().split('\n').map((l) => JSON.parse(l) as Prediction);
    const rows = golden('xlmr-style');
    const text = CLASS_ORDER.map((c) => {
      const g = rows.get(promptOf(c))!;
      return xlmrTextForward(fx.text, [tok.ids.fra_Latn, ...g.ids.slice(1)], g.attention_mask).embedding;
    });
    const ckpt = await loadCheckpoint(model, { language: 'fr' });
    await ckpt.release();
    const pixels = await Promise.all(images.map((im) => preprocessImage(im.file, ckpt.preprocess)));
    checkPredictions(lines, cosines(pixels.map((p) => visualForward(fx.visual, p)), text), CLASS_ORDER);
  });

  it('eval without --language: exit 2, one line naming tokenizer.json and the fix, no results DB written', async () => {
    const model = path.join(tmp, 'nllb-nolang');
    await writeNllbFixture(model, [], { tokenizer: nllbTokenizer().files });
    const root = path.join(tmp, 'images-nllb');
    await writeImageFolder(root);
    const db = path.join(tmp, 'nllb.sqlite');
    const r = spawnSync(process.execPath, [bin, 'eval', '--model', model, '--dataset', 'imagefolder', '--root', root, '--prompts', prompts(), '--db', db], { encoding: 'utf8', cwd: tmp });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/textual[/\\]tokenizer\.json: an NLLB tokenizer puts the language code before the text.*--language/);
    expect(existsSync(db)).toBe(false);
  });
});
