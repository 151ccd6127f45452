/**
 * Immich's multilingual layouts (src/fixtures/xlmr-layouts.ts): the toy XLM-R and NLLB tokenizers load
 * through the project's real loader with their family's rules (ids stated by hand), the written towers
 * equal the float64 oracles (clip-forward.ts for the image tower, xlmr-forward.ts for the text tower),
 * and the shared xlmr-style tokenizer written into a fixture gives sentencepiece's golden ids.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, type Dirent } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32, normalArray } from '../src/fixtures/random.js';
import { readTokenizerFiles, toyUnigramPieces } from '../src/fixtures/toy-unigram.js';
import { writeMclipFixture, writeNllbFixture } from '../src/fixtures/xlmr-layouts.js';
import { UsageError } from '../src/errors.js';
import { loadFedTokenizer } from '../src/models/tokenizer/index.js';
import { visualForward } from './support/clip-forward.js';
import { reference, referencePath } from './support/reference.js';
import { xlmrTextForward } from './support/xlmr-forward.js';

const TEXTS = ['a photo of a red square.', 'a blue circle'];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'multilingual-fx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const filesOf = (dir: string): string[] => (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[]).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
const session = (dir: string, rel: string) => ort.InferenceSession.create(readFileSync(path.join(dir, rel)));
const IMMICH_FILES = ['config.json', 'textual/model.onnx', 'textual/sentencepiece.bpe.model', 'textual/special_tokens_map.json', 'textual/tokenizer.json', 'textual/tokenizer_config.json', 'visual/model.onnx', 'visual/preprocess_cfg.json'];

/** `[prefix] content </s>=2`, padded with `<pad>`=1 to 77; mask 1 over all but the padding. */
function fed(row: number[]) {
  return { ids: [...row, ...new Array(77 - row.length).fill(1)], attention_mask: [...row.map(() => 1), ...new Array(77 - row.length).fill(0)] };
}
/** float32 through two layers measures ~1e-6 relative (xlmr-arch.test.ts); 2e-5 as there. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
  }
  expect(diff / scale, what).toBeLessThan(2e-5);
}

// Toy vocabulary of TEXTS in the fairseq layout, by hand: <s>0 <pad>1 </s>2 <unk>3, ▁a4 ▁photo5 ▁of6 ▁red7
// ▁square8 ▁square.9 ▁blue10 ▁circle11 ▁12, characters a13 … i29 (toyUnigramPieces order); XLM-R: <mask>30;
// NLLB: deu_Latn30 eng_Latn31 fra_Latn32 ita_Latn33 jpn_Jpan34 zho_Hans35 <mask>36.
describe('Immich M-CLIP fixture (XLM-R tokenizer, input_ids + attention_mask)', () => {
  it('writes the layout; its tokenizer loads as xlmr: <s> … </s>, pad 1 to 77, whitespace clean from config.json', async () => {
    const dir = path.join(tmp, 'mclip');
    await writeMclipFixture(dir, TEXTS);
    expect(filesOf(dir)).toEqual(IMMICH_FILES);
    expect(toyUnigramPieces(TEXTS).length).toBe(26);
    const tok = loadFedTokenizer(dir);
    expect([tok.family, tok.modelType, tok.contextLength, tok.padId, tok.clean]).toEqual(['xlmr', 'Unigram', 77, 1, 'whitespace']);
    expect(tok.row('a photo of a red square.')).toEqual(fed([0, 4, 5, 6, 4, 7, 9, 2]));
    expect(tok.row('a  blue   circle ')).toEqual(fed([0, 4, 10, 11, 2])); // whitespace collapsed, case kept
    expect(tok.row('a <mask> circle').ids.slice(0, 5)).toEqual([0, 4, 30, 11, 2]); // special spelling split out
    expect(JSON.parse(readFileSync(path.join(dir, 'textual', 'tokenizer_config.json'), 'utf8'))).toMatchObject({ tokenizer_class: 'XLMRobertaTokenizer', model_max_length: 512 });
    // as Immich writes it: the image tower's open_clip config, whose text_cfg is CLIP's (not the XLM-R vocabulary)
    expect(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')).text_cfg).toMatchObject({ context_length: 77, vocab_size: 49408 });
  });

  it('textual (dynamic-batch variant): int32 input_ids + attention_mask → normalised embedding = oracle; visual: image → embedding = CLIP oracle', async () => {
    const dir = path.join(tmp, 'mclip-run');
    const fx = await writeMclipFixture(dir, TEXTS, { seed: 3, dynamicBatch: true });
    const tok = loadFedTokenizer(dir);
    const t = await session(dir, 'textual/model.onnx');
    expect([t.inputNames, t.outputNames]).toEqual([['input_ids', 'attention_mask'], ['embedding']]);
    const rows = TEXTS.map((x) => tok.row(x));
    const out = await t.run({
      input_ids: new ort.Tensor('int32', Int32Array.from(rows.flatMap((r) => r.ids)), [2, 77]),
      attention_mask: new ort.Tensor('int32', Int32Array.from(rows.flatMap((r) => r.attention_mask)), [2, 77]),
    });
    const E = fx.text.config.embedDim;
    rows.forEach((r, i) => expectClose((out.embedding.data as Float32Array).subarray(i * E, (i + 1) * E), xlmrTextForward(fx.text, r.ids, r.attention_mask).embedding, `text row ${i}`));
    const S = fx.visual.config.imageSize;
    const image = normalArray(mulberry32(4), 3 * S * S, 1);
    const v = await (await session(dir, 'visual/model.onnx')).run({ image: new ort.Tensor('float32', image, [1, 3, S, S]) });
    expectClose(v.embedding.data as Float32Array, visualForward(fx.visual, image), 'image');
  });

  it('Immich\'s exporter fixes [1, 77]; the newer export names the output text_embedding', async () => {
    const dir = path.join(tmp, 'mclip-te');
    await writeMclipFixture(dir, TEXTS, { textOutput: 'text_embedding' });
    const t = await session(dir, 'textual/model.onnx');
    expect(t.outputNames).toEqual(['text_embedding']);
    const two = new ort.Tensor('int32', new Int32Array(2 * 77).fill(1), [2, 77]);
    await expect(t.run({ input_ids: two, attention_mask: two })).rejects.toThrow();
  });
});

describe('Immich NLLB-CLIP fixture (NLLB tokenizer, `text` only, mask = ids ≠ pad)', () => {
  it('its tokenizer loads as nllb: the --language code first, </s> last; no language is a usage error', async () => {
    const dir = path.join(tmp, 'nllb');
    await writeNllbFixture(dir, TEXTS);
    expect(filesOf(dir)).toEqual(IMMICH_FILES);
    expect(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')).text_cfg).toEqual({ hf_model_name: 'facebook/nllb-200-distilled-600M', hf_tokenizer_name: 'facebook/nllb-200-distilled-600M', hf_proj_type: 'linear', hf_pooler_type: 'cls_pooler' });
    const fr = loadFedTokenizer(dir, { language: 'fra_Latn' });
    expect([fr.family, fr.contextLength, fr.padId]).toEqual(['nllb', 77, 1]);
    expect(fr.row('a blue circle')).toEqual(fed([32, 4, 10, 11, 2]));
    expect(loadFedTokenizer(dir, { language: 'eng_Latn' }).row('a blue circle').ids[0]).toBe(31);
    expect(() => loadFedTokenizer(dir)).toThrow(UsageError);
    expect(() => loadFedTokenizer(dir, { language: 'xxx_Latn' })).toThrow(/not a language-code token/);
  });

  it('textual: int32 `text` [1, 77] → embedding = oracle (mask ids ≠ pad, cls pooling at the language code)', async () => {
    const dir = path.join(tmp, 'nllb-run');
    const fx = await writeNllbFixture(dir, TEXTS, { seed: 8 });
    expect([fx.text.config.pooler, fx.text.proj.b.length]).toEqual(['cls', 0]); // cls_pooler; open_clip's linear projection has no bias
    const t = await session(dir, 'textual/model.onnx');
    expect([t.inputNames, t.outputNames]).toEqual([['text'], ['embedding']]);
    const embed = async (language: string) => {
      const row = loadFedTokenizer(dir, { language }).row('a photo of a red square.');
      const out = await t.run({ text: new ort.Tensor('int32', Int32Array.from(row.ids), [1, 77]) });
      const got = out.embedding.data as Float32Array;
      expectClose(got, xlmrTextForward(fx.text, row.ids, row.attention_mask).embedding, language);
      return got;
    };
    const de = await embed('deu_Latn');
    const fr = await embed('fra_Latn');
    expect(Math.max(...Array.from(de, (v, i) => Math.abs(v - fr[i])))).toBeGreaterThan(1e-2); // the language code is what is pooled
  });
});

const spm = reference('spm/xlmr-style', 'M-CLIP fixtures with the shared xlmr-style tokenizer');

describe.skipIf(!spm.present)('M-CLIP fixture written with the shared xlmr-style tokenizer', () => {
  it('gives the golden open_clip_ids (whitespace clean, context 77 from config.json) and feeds the text tower', async () => {
    const dir = path.join(tmp, 'mclip-spm');
    const fx = await writeMclipFixture(dir, [], { tokenizer: readTokenizerFiles(spm.path), seed: 6 });
    expect(fx.text.config.vocabSize).toBe(8002);
    const tok = loadFedTokenizer(dir);
    expect([tok.family, tok.contextLength, tok.clean]).toEqual(['xlmr', 77, 'whitespace']);
    const golden = gunzipSync(readFileSync(referencePath('spm', 'xlmr-style', 'tokens-public.jsonl.gz')))
      .toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; category: string; open_clip_ids: number[] })
      .filter((r) => r.category.startsWith('clip-benchmark-') || r.category === 'babel-imagenet-nllb').slice(0, 150);
    expect(golden.length).toBe(150);
    for (const r of golden) expect(tok.row(r.text).ids, r.text).toEqual(r.open_clip_ids);
    const row = tok.row(golden[0].text);
    const t = await session(dir, 'textual/model.onnx');
    const out = await t.run({ input_ids: new ort.Tensor('int32', Int32Array.from(row.ids), [1, 77]), attention_mask: new ort.Tensor('int32', Int32Array.from(row.attention_mask), [1, 77]) });
    expectClose(out.embedding.data as Float32Array, xlmrTextForward(fx.text, row.ids, row.attention_mask).embedding, 'text');
  });
});
