/**
 * The SigLIP fixtures' tokenizer files load through the project's real loader (loadFedTokenizer) with
 * SigLIP's rules: the toy Unigram's ids stated by hand, and the shared siglip-style tokenizer written
 * into a fixture giving sentencepiece's golden open_clip_ids (reference spm/, README there) and feeding
 * the fixture's text tower, whose embedding table covers its 8,000 ids.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSiglipFixture } from '../src/fixtures/siglip-layouts.js';
import { readTokenizerFiles, t5UnigramTokenizer, toyUnigramPieces } from '../src/fixtures/toy-unigram.js';
import { writeFolder } from '../src/fixtures/model-layouts.js';
import { loadFedTokenizer } from '../src/models/tokenizer/index.js';
import { reference, referencePath } from './support/reference.js';
import { siglipTextForward } from './support/siglip-forward.js';

const TEXTS = ['a photo of a red square.', 'a blue circle'];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'siglip-tok-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** `content` then `</s>` = 1, padded with `</s>` = 1 to 64; mask 1 over content and `</s>`. */
const fed = (content: number[]) => ({
  ids: [...content, 1, ...new Array(63 - content.length).fill(1)],
  attention_mask: [...new Array(content.length + 1).fill(1), ...new Array(63 - content.length).fill(0)],
});

describe('toy Unigram tokenizer in the T5/SigLIP layout', () => {
  // Vocabulary of TEXTS by hand: <pad>0 </s>1 <unk>2, words ▁a3 ▁photo4 ▁of5 ▁red6 ▁square7 ▁square.8
  // ▁blue9 ▁circle10, ▁11, characters a12 p13 h14 o15 t16 f17 r18 e19 d20 s21 q22 u23 .24 b25 l26 c27 i28.
  it('lays out the pieces as documented', () => {
    const pieces = toyUnigramPieces(TEXTS).map(([p]) => p);
    expect(pieces.slice(0, 9)).toEqual(['▁a', '▁photo', '▁of', '▁red', '▁square', '▁square.', '▁blue', '▁circle', '▁']);
    expect(pieces.slice(9).join('')).toBe('aphotfredsqu.blci');
  });

  it('Immich layout: config.json canonicalize, context 64, pad = </s> = 1; ids stated by hand', async () => {
    const dir = path.join(tmp, 'immich');
    await writeSiglipFixture(dir, 'immich', TEXTS);
    const tok = loadFedTokenizer(dir);
    expect([tok.family, tok.modelType, tok.contextLength, tok.padId, tok.clean]).toEqual(['siglip', 'Unigram', 64, 1, 'canonicalize']);
    expect(tok.source).toBe(path.join(dir, 'textual', 'tokenizer.json'));
    expect(tok.row('A photo of a RED square!')).toEqual(fed([3, 4, 5, 3, 6, 7]));
    expect(tok.row('a blue circle')).toEqual(fed([3, 9, 10]));
    // an unseen word falls back to ▁ + characters; the unknown "x" is <unk> = 2
    expect(tok.row('a red fox')).toEqual(fed([3, 6, 11, 17, 15, 2]));
  });

  it('HF layout: SiglipTokenizer cleans itself (lower-case, punctuation) with model_max_length 64', async () => {
    const dir = path.join(tmp, 'hf-split');
    await writeSiglipFixture(dir, 'hf-split', TEXTS);
    const tok = loadFedTokenizer(dir);
    expect([tok.family, tok.contextLength, tok.padId, tok.clean]).toEqual(['siglip', 64, 1, 'transformers_siglip']);
    expect(tok.row('A photo of a RED square!')).toEqual(fed([3, 4, 5, 3, 6, 7]));
  });

  it('files alone (T5Tokenizer, no open_clip config): no cleaning, so "square." stays one piece', async () => {
    const dir = path.join(tmp, 'plain');
    const t = t5UnigramTokenizer(TEXTS);
    await writeFolder(dir, { 'tokenizer.json': JSON.stringify(t.json), 'tokenizer_config.json': JSON.stringify(t.config), 'special_tokens_map.json': JSON.stringify(t.specialTokensMap) });
    const tok = loadFedTokenizer(path.join(dir, 'tokenizer.json'));
    expect(tok.clean).toBe('none');
    expect(tok.row('a photo of a red square.')).toEqual(fed([3, 4, 5, 3, 6, 8]));
  });
});

const spm = reference('spm/siglip-style', 'SigLIP fixtures with the shared siglip-style tokenizer');

describe.skipIf(!spm.present)('SigLIP fixture written with the shared siglip-style tokenizer', () => {
  it('gives the golden open_clip_ids (canonicalize from its config.json) and feeds the text tower', async () => {
    const dir = path.join(tmp, 'immich-spm');
    const fx = await writeSiglipFixture(dir, 'immich-batch1', [], { tokenizer: readTokenizerFiles(spm.path), seed: 5 });
    expect(fx.config.vocabSize).toBe(8000);
    const tok = loadFedTokenizer(dir);
    expect(tok.clean).toBe('canonicalize');
    const golden = gunzipSync(readFileSync(referencePath('spm', 'siglip-style', 'tokens-public.jsonl.gz')))
      .toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; category: string; open_clip_ids: number[] })
      .filter((r) => r.category === 'imagenet-photo').slice(0, 100);
    expect(golden.length).toBe(100);
    for (const r of golden) expect(tok.row(r.text).ids, r.text).toEqual(r.open_clip_ids);

    const row = tok.row(golden[0].text).ids;
    const s = await ort.InferenceSession.create(readFileSync(path.join(dir, 'textual', 'model.onnx')));
    const out = await s.run({ text: new ort.Tensor('int32', Int32Array.from(row), [1, 64]) });
    const want = siglipTextForward(fx.weights, row).embedding;
    const got = out.embedding.data as Float32Array;
    // float32 vs float64 through two layers: ≤ ~1e-6 (see siglip-arch.test.ts); 2e-5 as there
    expect(Math.max(...want.map((v, i) => Math.abs(v - got[i])))).toBeLessThan(2e-5);
  });
});
