import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import {
  BYTE_TO_CHAR,
  BYTE_VOCAB_ORDER,
  CLIP_MERGE_COUNT,
  ClipTokenizer,
  buildClipVocab,
  buildTokenizerJson,
  cleanText,
  fixText,
  htmlUnescape,
  loadBpeVocabGz,
  loadTokenizerFromDir,
  loadTokenizerJson,
  loadVocabMerges,
  parseTokenizerJson,
  preTokenize,
  type Merge,
} from '../src/models/tokenizer/index.js';
import { mulberry32 } from '../src/fixtures/random.js';
import { reference } from './support/reference.js';

const tokensRef = reference('clip-bpe/tokens-public.jsonl.gz', 'tokenizer parity with clip.tokenize and the real CLIP vocabulary');
const BPE_DIR = path.dirname(tokensRef.path);
const HAVE_REFERENCE = tokensRef.present;

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'clip-tok-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));
let tmpCount = 0;
function tmpDir(): string {
  const d = path.join(tmpRoot, String(tmpCount++));
  mkdirSync(d, { recursive: true });
  return d;
}

/** Small deterministic PRNG so property tests are reproducible. */
const rng = mulberry32;

// A tiny CLIP-style vocabulary: 512 byte symbols, five merges, then the two specials.
const TOY_MERGES: Merge[] = [
  ['a', 'a'],
  ['a', 'b</w>'],
  ['aa', 'ab</w>'],
  ['t', 'h'],
  ['th', 'e</w>'],
];
const toyVocab = () => buildClipVocab(TOY_MERGES);
const toyTokenizer = (opts: { contextLength?: number; padId?: number } = {}) => new ClipTokenizer({ vocab: toyVocab(), merges: TOY_MERGES, ...opts });

function expectUsageError(fn: () => unknown, ...fragments: (string | RegExp)[]): UsageError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(UsageError);
  const err = caught as UsageError;
  for (const f of fragments) expect(err.oneLine()).toMatch(f);
  return err;
}

describe.skipIf(!HAVE_REFERENCE)('reference parity (clip.tokenize, truncate=True)', () => {
  const rows = HAVE_REFERENCE
    ? gunzipSync(readFileSync(path.join(BPE_DIR, 'tokens-public.jsonl.gz')))
        .toString('utf8')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as { text: string; ids: number[] })
    : [];

  function parity(tok: ClipTokenizer, label: string): void {
    let match = 0;
    const misses: string[] = [];
    for (const r of rows) {
      const ids = tok.tokenize(r.text);
      if (ids.length === r.ids.length && ids.every((v, i) => v === r.ids[i])) match++;
      else if (misses.length < 5) misses.push(`${JSON.stringify(r.text)}: ${JSON.stringify(ids)} != ${JSON.stringify(r.ids)}`);
    }
    console.log(`${label}: ${match}/${rows.length} rows match the reference exactly`);
    expect(misses).toEqual([]);
    expect(match).toBe(rows.length);
  }

  it('reads all 79,979 reference rows', () => {
    expect(rows.length).toBe(79_979);
  });

  it('matches every row from bpe_simple_vocab_16e6.txt.gz', () => {
    const tok = loadBpeVocabGz(path.join(BPE_DIR, 'bpe_simple_vocab_16e6.txt.gz'));
    expect([tok.sotId, tok.eotId, tok.vocabSize, tok.contextLength, tok.padId]).toEqual([49406, 49407, 49408, 77, 0]);
    parity(tok, 'bpe_simple_vocab_16e6.txt.gz');
  });

  it('matches every row from tokenizer.json', () => {
    const tok = loadTokenizerJson(path.join(BPE_DIR, 'tokenizer.json'));
    expect([tok.sotId, tok.eotId, tok.vocabSize, tok.contextLength, tok.padId]).toEqual([49406, 49407, 49408, 77, 0]);
    parity(tok, 'tokenizer.json');
  });

  it('builds the same vocabulary from both files', () => {
    const gz = loadBpeVocabGz(path.join(BPE_DIR, 'bpe_simple_vocab_16e6.txt.gz'));
    const json = JSON.parse(readFileSync(path.join(BPE_DIR, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number>; merges: string[] } };
    expect(json.model.merges.length).toBe(CLIP_MERGE_COUNT);
    for (const [token, id] of Object.entries(json.model.vocab)) expect(gz.idToToken(id)).toBe(token);
  });

  it('pads batches with zeros and points eotIndex at <|endoftext|>', () => {
    const tok = loadTokenizerJson(path.join(BPE_DIR, 'tokenizer.json'));
    const sample = rows.filter((_, i) => i % 997 === 0 || i >= rows.length - 140);
    const batch = tok.tokenizeBatch(sample.map((r) => r.text));
    expect(batch.dims).toEqual([sample.length, 77]);
    sample.forEach((r, i) => {
      const row = Array.from(batch.data.subarray(i * 77, (i + 1) * 77));
      expect(row).toEqual([...r.ids, ...new Array(77 - r.ids.length).fill(0)]);
      expect(batch.eotIndex[i]).toBe(r.ids.length - 1);
      expect(row[batch.eotIndex[i]]).toBe(49407);
    });
  });

  it('gives the same ids with merges in the ["a","b"] pair form', () => {
    const json = JSON.parse(readFileSync(path.join(BPE_DIR, 'tokenizer.json'), 'utf8')) as { model: { merges: (string | string[])[] } };
    json.model.merges = json.model.merges.map((m) => (m as string).split(' '));
    const pairs = parseTokenizerJson(json);
    const strings = loadTokenizerJson(path.join(BPE_DIR, 'tokenizer.json'));
    for (const r of rows.filter((_, i) => i % 40 === 0 || i >= rows.length - 140)) expect(pairs.tokenize(r.text)).toEqual(strings.tokenize(r.text));
  });

  it('encodes a prompt as in the CLIP paper notebooks', () => {
    const tok = loadBpeVocabGz(path.join(BPE_DIR, 'bpe_simple_vocab_16e6.txt.gz'));
    expect(tok.tokenize('a photo of a dog.')).toEqual([49406, 320, 1125, 539, 320, 1929, 269, 49407]);
    expect(tok.decode(tok.encode('A Photo of a DOG.'))).toBe('a photo of a dog . ');
  });
});

describe('BPE by hand on a tiny vocabulary', () => {
  // Ids from buildClipVocab: byte symbols in bytes_to_unicode order ('!' = 0, so 'a' = 0x61 - 0x21 = 64,
  // 'b' = 65, ',' = 11), then the same + '</w>' (+256), then one id per merge (512..516), then
  // <|startoftext|> = 517 and <|endoftext|> = 518.
  const A = 64;
  const A_END = 256 + 64;
  const B_END = 256 + 65;
  const COMMA_END = 256 + 11;
  const [AA, AB_END, AAAB_END, TH, THE_END] = [512, 513, 514, 515, 516];

  it('lays out the vocabulary like simple_tokenizer', () => {
    const tok = toyTokenizer();
    expect([tok.tokenToId('a'), tok.tokenToId('a</w>'), tok.tokenToId('aa'), tok.tokenToId('the</w>')]).toEqual([A, A_END, AA, THE_END]);
    expect([tok.sotId, tok.eotId, tok.vocabSize]).toEqual([517, 518, 519]);
    expect(BYTE_VOCAB_ORDER.slice(0, 3)).toEqual(['!', '"', '#']);
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ'); // space is the 33rd shifted byte → U+0120
  });

  it('merges the lowest-ranked pair everywhere, then repeats', () => {
    const tok = toyTokenizer();
    // aaab: a a a b</w> → (a,a) rank 0 merges left to right: aa a b</w> → (a,b</w>) rank 1: aa ab</w> → rank 2: aaab</w>
    expect(tok.encode('aaab')).toEqual([AAAB_END]);
    // aaaa: a a a a</w> → aa a a</w>; (a,a</w>) is no merge, so three symbols remain
    expect(tok.encode('aaaa')).toEqual([AA, A, A_END]);
    // aab: a a b</w> → rank 0 beats rank 1: aa b</w>, and (aa,b</w>) is no merge
    expect(tok.encode('aab')).toEqual([AA, B_END]);
    expect(tok.encode('ab')).toEqual([AB_END]);
    expect(tok.encode('the')).toEqual([THE_END]);
    expect(tok.encode('theme')).toEqual([TH, ...['e', 'm'].map((c) => tok.tokenToId(c)!), tok.tokenToId('e</w>')!]);
  });

  it('cleans, lowercases and pre-tokenises before BPE', () => {
    const tok = toyTokenizer();
    expect(tok.encode('  AAAB,\tThe  ')).toEqual([AAAB_END, COMMA_END, THE_END]);
    expect(tok.tokenize('aab ab')).toEqual([517, AA, B_END, AB_END, 518]);
    expect(tok.tokenize('')).toEqual([517, 518]);
    expect(tok.tokenize('<|startoftext|>the<|endoftext|>')).toEqual([517, 517, THE_END, 518, 518]);
  });

  it('decodes ids back to text, </w> as a space', () => {
    const tok = toyTokenizer();
    expect(tok.decode([AAAB_END, COMMA_END, THE_END])).toBe('aaab , the ');
    expect(tok.decode([517, AA, 518])).toBe('<|startoftext|>aa<|endoftext|>');
    expectUsageError(() => tok.decode([9999]), 'token id');
  });
});

describe('round trip', () => {
  const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('') + '\t\n';
  const texts = (seed: number, n: number) => {
    const rand = rng(seed);
    return Array.from({ length: n }, () => Array.from({ length: Math.floor(rand() * 40) }, () => ascii[Math.floor(rand() * ascii.length)]).join(''));
  };

  function checkRoundTrip(tok: ClipTokenizer, seed: number): void {
    for (const x of texts(seed, 500)) {
      const clean = cleanText(x);
      const decoded = tok.decode(tok.encode(x));
      // Every pre-token comes back followed by the space its </w> stands for.
      expect(decoded).toBe(preTokenize(clean).map((p) => p + ' ').join(''));
      expect(decoded.replace(/ /g, '')).toBe(clean.replace(/ /g, ''));
    }
  }

  it('decode(encode(x)) is the cleaned, lowercased text for random ASCII (toy vocabulary)', () => {
    checkRoundTrip(toyTokenizer(), 1);
  });

  it.skipIf(!HAVE_REFERENCE)('decode(encode(x)) is the cleaned, lowercased text for random ASCII (CLIP vocabulary)', () => {
    checkRoundTrip(loadTokenizerJson(path.join(BPE_DIR, 'tokenizer.json')), 2);
  });

  it('round-trips non-ASCII text through the byte-level alphabet', () => {
    const tok = toyTokenizer();
    expect(tok.decode(tok.encode('Zürich 狗 🐶'))).toBe('zürich 狗 🐶 ');
  });
});

describe('text cleaning (ftfy 6.3.1 + html.unescape ×2, checked against Python)', () => {
  it.each([
    ['cafÃ©', 'café'],
    ['donâ€™t', "don't"],
    ['Ã©tÃ©', 'été'],
    ['voilÃ le travail', 'voilà le travail'],
    ['sÃ³', 'só'],
    ['â€œ like this â€\ufffd', '" like this \ufffd'],
    ['\u0080\u0093x\u0094', '€"x"'],
    ['&amp;amp;amp;', '&'],
    ['&EACUTE;t&EACUTE;', 'ÉtÉ'],
    ['<b>&EACUTE;</b>', '<b>&EACUTE;</b>'], // ftfy leaves HTML-looking text alone
    ['ＬＯＵＤ\u3000ＮＯＩＳＥＳ', 'LOUD NOISES'],
    ['ﬁsh ﬂour', 'fish flour'],
    ['\u201chere\u2019s\u201d', '"here\'s"'],
    ['a\u0085b', 'a…b'],
    ['\x1b[31mred\x1b[0m', 'red'],
    ['tab\tand\x0bvt\x1cfs', 'tab\tandvtfs'],
  ])('fixText(%j) = %j', (input, expected) => {
    expect(fixText(input)).toBe(expected);
  });

  it.each([
    ['fish &amp chips', 'fish & chips'],
    ['<b>&EACUTE;</b>', '<b>&eacute;</b>'],
    ['&notit; &ampxyz', '¬it; &xyz'],
    ['&#x110000;&#128;&#0;&#65', '\ufffd€\ufffda'],
    ['İstanbul', 'i\u0307stanbul'],
    ['ΟΔΟΣ', 'οδος'],
    ['  a\u3000\u2028b\u00a0 c\u200b ', 'a b c\u200b'],
  ])('cleanText(%j) = %j', (input, expected) => {
    expect(cleanText(input)).toBe(expected);
  });

  it('unescapes HTML like Python html.unescape', () => {
    expect(htmlUnescape('&lt;&gt;&amp;&quot;&#39;&#x27;')).toBe('<>&"\'\'');
    expect(htmlUnescape('&amp &ampx &notin; &notin')).toBe('& &x ∉ ¬in');
    expect(htmlUnescape('&#x80;&#1;&#xD800;&#99999999999;')).toBe('€\ufffd\ufffd');
    expect(htmlUnescape('&unknown; &;')).toBe('&unknown; &;');
  });

  it('pre-tokenises with the regex module\'s IGNORECASE quirks', () => {
    expect(preTokenize("don't we're i'm")).toEqual(['don', "'t", 'we', "'re", 'i', "'m"]);
    expect(preTokenize("a\u0345b 'ſ x")).toEqual(['a', 'b', "'ſ", 'x']); // U+0345 matches nothing, ſ folds to s
    expect(preTokenize('ab12 ...!? 狗')).toEqual(['ab', '1', '2', '...!?', '狗']);
  });
});

describe('truncation', () => {
  it('cuts to contextLength and keeps <|endoftext|> last (truncate: true, the default)', () => {
    const tok = toyTokenizer({ contextLength: 6 });
    const ids = tok.tokenize('the the the the the the the');
    expect(ids).toEqual([517, 516, 516, 516, 516, 518]);
    expect(tok.tokenize('the the the the')).toEqual([517, 516, 516, 516, 516, 518]); // exactly fits
    expect(tok.tokenizeBatch(['the '.repeat(50)]).eotIndex[0]).toBe(5);
  });

  it('throws a UsageError for over-long text with truncate: false', () => {
    const tok = toyTokenizer({ contextLength: 6 });
    expect(tok.tokenize('the the the the', { truncate: false })).toHaveLength(6);
    expectUsageError(() => tok.tokenize('the the the the the', { truncate: false }), '7 tokens', 'context length 6', 'truncate');
    expectUsageError(() => tok.tokenizeBatch(['a', 'the the the the the'], { truncate: false }), 'context length 6');
  });

  it.skipIf(!HAVE_REFERENCE)('truncates the CLIP way at 77', () => {
    const tok = loadBpeVocabGz(path.join(BPE_DIR, 'bpe_simple_vocab_16e6.txt.gz'));
    const ids = tok.tokenize('dog '.repeat(100));
    expect(ids).toHaveLength(77);
    expect(ids[76]).toBe(49407);
    expectUsageError(() => tok.tokenize('dog '.repeat(100), { truncate: false }), '102 tokens');
  });
});

describe('batches', () => {
  it('makes int32 batches padded with padId', () => {
    const tok = toyTokenizer({ contextLength: 8 });
    const b = tok.tokenizeBatch(['the aab', '', 'ab ab ab']);
    expect(b.data).toBeInstanceOf(Int32Array);
    expect(b.dims).toEqual([3, 8]);
    expect(Array.from(b.data)).toEqual([
      517, 516, 512, 256 + 65, 518, 0, 0, 0,
      517, 518, 0, 0, 0, 0, 0, 0,
      517, 513, 513, 513, 518, 0, 0, 0,
    ]);
    expect(Array.from(b.eotIndex)).toEqual([4, 1, 4]);
  });

  it('makes int64 batches with the same values', () => {
    const tok = toyTokenizer({ contextLength: 8, padId: 518 });
    const b32 = tok.tokenizeBatch(['the aab', 'ab'], { dtype: 'int32' });
    const b64 = tok.tokenizeBatch(['the aab', 'ab'], { dtype: 'int64' });
    expect(b64.data).toBeInstanceOf(BigInt64Array);
    expect(b64.dims).toEqual([2, 8]);
    expect(Array.from(b64.data, Number)).toEqual(Array.from(b32.data));
    expect(Array.from(b32.data.subarray(8))).toEqual([517, 513, 518, 518, 518, 518, 518, 518]);
    expect(Array.from(b64.eotIndex)).toEqual([4, 2]);
  });

  it('handles an empty batch and rejects an unknown dtype', () => {
    const tok = toyTokenizer();
    expect(tok.tokenizeBatch([]).dims).toEqual([0, 77]);
    expectUsageError(() => tok.tokenizeBatch(['a'], { dtype: 'float32' as 'int32' }), 'dtype');
  });
});

describe('tokenizer.json written by buildTokenizerJson', () => {
  it('round-trips through the loader in both merge forms', () => {
    const dir = tmpDir();
    const texts = ['the aaab', 'aaaa, ab!', 'Théâtre 2024', ''];
    const base = toyTokenizer();
    for (const form of ['string', 'pair'] as const) {
      const json = buildTokenizerJson(toyVocab(), TOY_MERGES, { mergesForm: form });
      const merges = json.model.merges as unknown[];
      expect(typeof merges[0]).toBe(form === 'string' ? 'string' : 'object');
      const file = path.join(dir, `${form}.json`);
      writeFileSync(file, JSON.stringify(json));
      const tok = loadTokenizerJson(file);
      expect([tok.vocabSize, tok.contextLength, tok.padId]).toEqual([519, 77, 0]);
      for (const t of texts) expect(tok.tokenize(t)).toEqual(base.tokenize(t));
    }
  });

  it('accepts a plain-object vocabulary and records context length and padding', () => {
    const json = buildTokenizerJson(Object.fromEntries(toyVocab()), TOY_MERGES, { contextLength: 10, padId: 518 });
    expect(json.truncation?.max_length).toBe(10);
    expect(json.padding).toMatchObject({ pad_id: 518, pad_token: '<|endoftext|>', strategy: { Fixed: 10 } });
    const tok = parseTokenizerJson(JSON.parse(JSON.stringify(json)));
    expect([tok.contextLength, tok.padId]).toEqual([10, 518]);
    expect(parseTokenizerJson(json, { contextLength: 12, padId: 0 }).contextLength).toBe(12);
  });

  it('refuses vocabularies that cannot make a CLIP tokenizer', () => {
    const noSpecials = toyVocab();
    noSpecials.delete('<|endoftext|>');
    expectUsageError(() => buildTokenizerJson(noSpecials, TOY_MERGES), '<|endoftext|>');
    expectUsageError(() => buildTokenizerJson(toyVocab(), [['q', 'zz']]), 'not in the vocabulary');
  });
});

describe('loadTokenizerFromDir', () => {
  function modelDir(files: Record<string, unknown>): string {
    const dir = tmpDir();
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content));
    }
    return dir;
  }
  const tokJson = (opts = {}) => buildTokenizerJson(toyVocab(), TOY_MERGES, opts);
  const settings = (t: ClipTokenizer) => [t.contextLength, t.padId];

  it('finds tokenizer.json, textual/tokenizer.json, vocab.json + merges.txt and the .txt.gz', () => {
    const vocabJson = Object.fromEntries(toyVocab());
    const mergesTxt = '#version: 0.2\n' + TOY_MERGES.map((m) => m.join(' ')).join('\n') + '\n';
    const gz = gzipSync('"bpe_simple_vocab_16e6.txt#version: 0.2\n' + TOY_MERGES.map((m) => m.join(' ')).join('\n'));
    const dirs = [
      modelDir({ 'tokenizer.json': tokJson() }),
      modelDir({ 'textual/tokenizer.json': tokJson() }),
      modelDir({ 'vocab.json': vocabJson, 'merges.txt': mergesTxt }),
      modelDir({ 'bpe_simple_vocab_16e6.txt.gz': gz }),
    ];
    for (const dir of dirs) {
      const tok = loadTokenizerFromDir(dir);
      expect(settings(tok)).toEqual([77, 0]);
      expect(tok.tokenize('the aaab')).toEqual([517, 516, 514, 518]);
    }
    expect(loadVocabMerges(path.join(dirs[2], 'vocab.json'), path.join(dirs[2], 'merges.txt')).tokenize('ab')).toEqual([517, 513, 518]);
    expect(loadBpeVocabGz(path.join(dirs[3], 'bpe_simple_vocab_16e6.txt.gz')).vocabSize).toBe(519);
  });

  it('keeps simple_tokenizer\'s empty token for a short .txt.gz that ends with a newline', () => {
    // merges[1:48895] of a short file includes the '' after the last '\n': vocab gains '' before the specials.
    const file = path.join(tmpDir(), 'bpe_simple_vocab_16e6.txt.gz');
    writeFileSync(file, gzipSync('#version: 0.2\n' + TOY_MERGES.map((m) => m.join(' ')).join('\n') + '\n'));
    const tok = loadBpeVocabGz(file);
    expect([tok.idToToken(517), tok.sotId, tok.eotId]).toEqual(['', 518, 519]);
    expect(tok.tokenize('the aaab')).toEqual([518, 516, 514, 519]);
  });

  it('takes context length and pad token from tokenizer_config.json', () => {
    const dir = modelDir({ 'textual/tokenizer.json': tokJson(), 'textual/tokenizer_config.json': { model_max_length: 16, pad_token: '<|endoftext|>' } });
    expect(settings(loadTokenizerFromDir(dir))).toEqual([16, 518]);
    const hfSentinel = modelDir({ 'tokenizer.json': tokJson(), 'tokenizer_config.json': { model_max_length: 1e30, pad_token: { content: '!' } } });
    expect(settings(loadTokenizerFromDir(hfSentinel))).toEqual([77, 0]);
  });

  it('takes context length from open_clip text_cfg and HF text_config', () => {
    const openClip = modelDir({ 'textual/tokenizer.json': tokJson(), 'config.json': { embed_dim: 512, text_cfg: { context_length: 32 } } });
    expect(settings(loadTokenizerFromDir(openClip))).toEqual([32, 0]);
    const hub = modelDir({ 'tokenizer.json': tokJson(), 'open_clip_config.json': { model_cfg: { text_cfg: { context_length: 24 } } } });
    expect(settings(loadTokenizerFromDir(hub))).toEqual([24, 0]);
    const hf = modelDir({ 'tokenizer.json': tokJson(), 'config.json': { text_config: { max_position_embeddings: 20, pad_token_id: 1 } } });
    expect(settings(loadTokenizerFromDir(hf))).toEqual([20, 1]);
  });

  it('lets tokenizer_config.json beat tokenizer.json beat config.json, and options beat all', () => {
    const dir = modelDir({
      'tokenizer.json': tokJson({ contextLength: 12, padId: 3 }),
      'config.json': { text_cfg: { context_length: 40 }, text_config: { pad_token_id: 1 } },
    });
    expect(settings(loadTokenizerFromDir(dir))).toEqual([12, 3]);
    writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 9, pad_token: '<|endoftext|>' }));
    expect(settings(loadTokenizerFromDir(dir))).toEqual([9, 518]);
    expect(settings(loadTokenizerFromDir(dir, { contextLength: 5, padId: 0 }))).toEqual([5, 0]);
    const tok = loadTokenizerFromDir(dir);
    expect(Array.from(tok.tokenizeBatch(['ab']).data)).toEqual([517, 513, 518, 518, 518, 518, 518, 518, 518]);
  });
});

describe('errors', () => {
  it('rejects a WordPiece tokenizer.json, naming the file', () => {
    const file = path.join(tmpDir(), 'tokenizer.json');
    writeFileSync(file, JSON.stringify({ version: '1.0', model: { type: 'WordPiece', unk_token: '[UNK]', vocab: { '[UNK]': 0, hello: 1 } } }));
    expectUsageError(() => loadTokenizerJson(file), file, 'WordPiece', 'CLIP BPE');
  });

  it('rejects malformed JSON, naming the file', () => {
    const file = path.join(tmpDir(), 'tokenizer.json');
    writeFileSync(file, '{"model": {"type": "BPE", ');
    expectUsageError(() => loadTokenizerJson(file), file, 'not valid JSON');
  });

  it('rejects GPT-2 style BPE, bad merges and out-of-vocabulary merges', () => {
    const gpt2 = { model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2, '<|startoftext|>': 3, '<|endoftext|>': 4 }, merges: ['a b'] } };
    expectUsageError(() => parseTokenizerJson(gpt2, {}, 'gpt2.json'), 'gpt2.json', '</w>');
    const json = JSON.parse(JSON.stringify(buildTokenizerJson(toyVocab(), TOY_MERGES)));
    json.model.merges.push('a b c');
    expectUsageError(() => parseTokenizerJson(json, {}, 'x.json'), 'model.merges[5]');
    json.model.merges[5] = ['x', 'y'];
    expectUsageError(() => parseTokenizerJson(json, {}, 'x.json'), '"xy"', 'not in the vocabulary');
  });

  it('rejects a vocabulary without the special tokens', () => {
    const vocab = toyVocab();
    vocab.delete('<|startoftext|>');
    expectUsageError(() => new ClipTokenizer({ vocab, merges: TOY_MERGES, source: 'v.json' }), 'v.json', '<|startoftext|>');
  });

  it('rejects a folder without a tokenizer and a pad_token outside the vocabulary', () => {
    const empty = tmpDir();
    expectUsageError(() => loadTokenizerFromDir(empty), empty, 'tokenizer.json');
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(buildTokenizerJson(toyVocab(), TOY_MERGES)));
    writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ pad_token: '<pad>' }));
    expectUsageError(() => loadTokenizerFromDir(dir), 'tokenizer_config.json', '<pad>');
  });

  it('rejects a file that is not gzip and bad settings', () => {
    const file = path.join(tmpDir(), 'bpe_simple_vocab_16e6.txt.gz');
    writeFileSync(file, 'plain text');
    expectUsageError(() => loadBpeVocabGz(file), file, 'gzip');
    writeFileSync(file, gzipSync('hello world\n'));
    expectUsageError(() => loadBpeVocabGz(file), file, '#version');
    expectUsageError(() => toyTokenizer({ contextLength: 1 }), 'contextLength');
    expectUsageError(() => toyTokenizer({ padId: 100_000 }), 'padId');
    expectUsageError(() => loadTokenizerFromDir(tmpDir(), { contextLength: 2.5 }), 'contextLength');
  });

  it('names missing BPE symbols when the vocabulary lacks a byte and has no unknown token', () => {
    const vocab = toyVocab();
    vocab.delete('z</w>');
    const tok = new ClipTokenizer({ vocab, merges: TOY_MERGES, source: 'toy' });
    expectUsageError(() => tok.encode('z'), 'toy', '"z</w>"');
    expect(new ClipTokenizer({ vocab, merges: TOY_MERGES, unkToken: '<|endoftext|>' }).encode('z')).toEqual([518]);
  });
});
