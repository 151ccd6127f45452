/**
 * Family rules on hand-made tokenizers (no reference data needed): NLLB's language prefix, the
 * float32 Unigram Viterbi against a brute-force oracle and on an exact score tie, CLIP rows as fed,
 * open_clip's canonicalize, and the one-line refusals.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/fixtures/random.js';
import { writeDemo, type DemoPaths } from '../src/fixtures/demo.js';
import { canonicalizeText, loadFedTokenizer, loadTokenizerFromDir, UnigramViterbi, wrapRow } from '../src/models/tokenizer/index.js';
import { usageFailure } from './support/usage-failure.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-fed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A minimal Unigram tokenizer.json in the layout Hugging Face's converters write (Metaspace, fairseq-style specials). */
function unigramJson(pieces: [string, number][], added: string[]): object {
  const vocab: [string, number][] = [['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0], ...pieces];
  const addedTokens = ['<s>', '<pad>', '</s>', '<unk>'].map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  added.forEach((content, i) => addedTokens.push({ id: vocab.length + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: null,
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, vocab, byte_fallback: false },
  };
}

function writeDir(name: string, files: Record<string, unknown>): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, content] of Object.entries(files)) writeFileSync(path.join(dir, f), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

// ids: 4 ▁a, 5 ▁photo, 6 ▁of, 7 ▁dog, 8 ▁; added language codes 9 eng_Latn, 10 fra_Latn
const PIECES: [string, number][] = [['▁a', -1], ['▁photo', -2], ['▁of', -1.5], ['▁dog', -2.5], ['▁', -3]];
const nllbDir = writeDir('nllb', {
  'tokenizer.json': unigramJson(PIECES, ['eng_Latn', 'fra_Latn']),
  'tokenizer_config.json': { tokenizer_class: 'NllbTokenizerFast', bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>', model_max_length: 1024 },
});

describe('NLLB: <lang_code> content </s>, padded with <pad> to 77', () => {
  it('puts the language code first (hand-worked: "a photo of a dog" in French)', () => {
    const tok = loadFedTokenizer(nllbDir, { language: 'fra_Latn' });
    expect([tok.family, tok.contextLength, tok.padId]).toEqual(['nllb', 77, 1]);
    const row = tok.row('a photo of a dog');
    expect(row.ids.slice(0, 8)).toEqual([10, 4, 5, 6, 4, 7, 2, 1]);
    expect(row.ids).toHaveLength(77);
    expect(row.attention_mask.slice(0, 8)).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
    expect(row.attention_mask.reduce((s, m) => s + m, 0)).toBe(7);
  });
  it('keeps the language code and </s> when the text is cut (75 content tokens)', () => {
    const row = loadFedTokenizer(nllbDir, { language: 'eng_Latn' }).row(Array(100).fill('a').join(' '));
    expect(row.ids[0]).toBe(9);
    expect(row.ids.slice(1, 76).every((id) => id === 4)).toBe(true);
    expect(row.ids[76]).toBe(2);
    expect(row.attention_mask.every((m) => m === 1)).toBe(true);
  });
  it('refuses without a language, or with one the tokenizer lacks, naming the file', async () => {
    expect(await usageFailure(() => loadFedTokenizer(nllbDir))).toMatch(/nllb[/\\]tokenizer\.json: an NLLB tokenizer puts the language code before the text.*--language/);
    expect(await usageFailure(() => loadFedTokenizer(nllbDir, { language: 'xxx_Latn' }))).toMatch(/language "xxx_Latn" is not a language-code token/);
  });
});

describe('wrapRow', () => {
  it('cuts the content so the suffix stays, and pads (SigLIP: no prefix, 64; XLM-R: <s>, 77)', () => {
    const content = Array.from({ length: 100 }, (_, i) => 100 + i);
    const s = wrapRow(content, null, 1, 1, 64);
    expect([s.ids.length, s.ids[62], s.ids[63]]).toEqual([64, 162, 1]);
    const x = wrapRow([5, 6], 0, 2, 1, 77);
    expect(x.ids.slice(0, 5)).toEqual([0, 5, 6, 2, 1]);
    expect(x.attention_mask.slice(0, 5)).toEqual([1, 1, 1, 1, 0]);
  });
});

/** Every segmentation of `chars` into pieces (unknown single characters allowed), scored in float64: the oracle. */
function bruteForce(text: string, pieces: Map<string, number>, unkScore: number): { best: number; segs: string[][] } {
  const chars = Array.from(text);
  let best = -Infinity;
  let segs: string[][] = [];
  const go = (pos: number, acc: string[], score: number) => {
    if (pos === chars.length) {
      if (score > best + 1e-9) [best, segs] = [score, [acc]];
      else if (Math.abs(score - best) <= 1e-9) segs.push(acc);
      return;
    }
    let single = false;
    for (let end = pos + 1; end <= chars.length; end++) {
      const p = chars.slice(pos, end).join('');
      const s = pieces.get(p);
      if (s === undefined) continue;
      if (end === pos + 1) single = true;
      go(end, [...acc, p], score + s);
    }
    if (!single) go(pos + 1, [...acc, chars[pos]], score + unkScore);
  };
  go(0, [], 0);
  return { best, segs };
}

describe('UnigramViterbi (sentencepiece\'s float32 best path)', () => {
  it('finds a best-scoring segmentation on 300 random vocabularies and texts (brute-force oracle)', () => {
    const rand = mulberry32(16);
    for (let trial = 0; trial < 300; trial++) {
      const alphabet = 'abcd';
      const pieces = new Map<string, number>();
      for (let k = 0; k < 10; k++) {
        const len = 1 + Math.floor(rand() * 3);
        const p = Array.from({ length: len }, () => alphabet[Math.floor(rand() * 3)]).join(''); // 'd' is never a piece: unknown
        pieces.set(p, Math.fround(-1 - rand() * 8));
      }
      const vocab: [string, number][] = [['<unk>', 0], ...pieces];
      const v = new UnigramViterbi({ vocab, unkId: 0 });
      const text = Array.from({ length: 1 + Math.floor(rand() * 9) }, () => alphabet[Math.floor(rand() * 4)]).join('');
      const unkScore = Math.fround(Math.min(...pieces.values()) - 10);
      const { segs } = bruteForce(text, pieces, unkScore);
      // unknown runs fuse into one <unk>, as sentencepiece does
      const fuse = (seg: string[]) => seg.map((p) => (pieces.has(p) ? p : '<unk>')).filter((p, i, a) => !(p === '<unk>' && a[i - 1] === '<unk>'));
      expect(segs.map(fuse).map((s) => s.join('|')), `${text} with ${JSON.stringify(vocab)}`).toContain(v.encodePieces(text).join('|'));
    }
  });

  it('breaks an exact tie as float32 storage does: "▁000" as ▁ 0 00 vs ▁ 00 0 (hand-worked)', () => {
    // Both paths sum the same three scores; sentencepiece stores each position's best as float32, so
    // the candidates at the end are fround(s+a)+b (via "▁","0","00") and fround(s+b)+a (via "▁","00","0").
    const s = Math.fround(-0.1), a = Math.fround(-1.1), b = Math.fround(-2.0); // "00" beats "0 0" (-2.0 > -2.2)
    expect((s + a) + b).toBe((s + b) + a); // in float64 an exact tie: a float64 lattice keeps the first path, ▁ 0 00
    const via0 = Math.fround(s + a) + b;
    const via00 = Math.fround(s + b) + a;
    expect(via00).toBeGreaterThan(via0); // with float32 storage ▁ 00 0 is strictly better
    const v = new UnigramViterbi({ vocab: [['<unk>', 0], ['▁', s], ['0', a], ['00', b]], unkId: 0 });
    expect(v.encodePieces('▁000')).toEqual(['▁', '00', '0']);
  });

  it('is the step that fixes that tie in a tokenizer.json (the plain library gives ▁ 0 00)', () => {
    const s = Math.fround(-0.1), a = Math.fround(-1.1), b = Math.fround(-2.0);
    const dir = writeDir('tie', {
      'tokenizer.json': unigramJson([['▁', s], ['0', a], ['00', b]], []), // ids 4 ▁, 5 0, 6 00
      'tokenizer_config.json': { tokenizer_class: 'XLMRobertaTokenizer', bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>' },
    });
    expect(loadFedTokenizer(dir).row('000').ids.slice(0, 5)).toEqual([0, 4, 6, 5, 2]);
    expect(loadFedTokenizer(dir, { steps: { float32Viterbi: false } }).row('000').ids.slice(0, 5)).toEqual([0, 4, 5, 6, 2]);
  });
});

describe('open_clip canonicalize (big_vision canonicalize_text)', () => {
  it.each([
    ['A Photo of a DOG.', 'a photo of a dog'],
    ['snake_case_label', 'snake case label'],
    ["it's  a (big)   cat!", 'its a big cat'],
    ['Ünïcode — stays', 'ünïcode — stays'],
  ])('%j → %j', (text, out) => expect(canonicalizeText(text)).toBe(out));
});

describe('CLIP as fed', () => {
  let demo: DemoPaths;
  it('is clip.tokenize\'s row padded to 77 with the pad id, mask 1 up to <|endoftext|>', async () => {
    demo = await writeDemo(path.join(tmp, 'demo'), 1);
    const fed = loadFedTokenizer(demo.model);
    const clip = loadTokenizerFromDir(demo.model);
    const batch = clip.tokenizeBatch(['a red square.']);
    const row = fed.row('a red square.');
    expect(fed.family).toBe('clip');
    expect(row.ids).toEqual([...batch.data]);
    expect(row.attention_mask.reduce((s, m) => s + m, 0)).toBe(batch.eotIndex[0] + 1);
  });
});

describe('refusals: one line naming the file', () => {
  it('a tokenizer model type the library cannot read', async () => {
    const dir = writeDir('bad-type', { 'tokenizer.json': { ...unigramJson(PIECES, []), model: { type: 'Sentencepiece2000', vocab: [] } }, 'tokenizer_config.json': { tokenizer_class: 'XLMRobertaTokenizer' } });
    expect(await usageFailure(() => loadFedTokenizer(path.join(dir, 'tokenizer.json')))).toMatch(/bad-type[/\\]tokenizer\.json: tokenizer model type "Sentencepiece2000" cannot be read \(known: BPE, Unigram, WordPiece, WordLevel\)/);
  });
  it('a non-CLIP tokenizer with no tokenizer_class to tell its family', async () => {
    const dir = writeDir('no-class', { 'tokenizer.json': unigramJson(PIECES, []) });
    expect(await usageFailure(() => loadFedTokenizer(dir))).toMatch(/no-class[/\\]tokenizer\.json: cannot tell which family this Unigram tokenizer is.*tokenizer_class/);
  });
  it('an unknown tokenizer_class', async () => {
    const dir = writeDir('odd-class', { 'tokenizer.json': unigramJson(PIECES, []), 'tokenizer_config.json': { tokenizer_class: 'AlbertTokenizer' } });
    expect(await usageFailure(() => loadFedTokenizer(dir))).toMatch(/tokenizer_config\.json: tokenizer_class "AlbertTokenizer" is not a family/);
  });
  it('an open_clip clean mode that does not exist', async () => {
    const dir = writeDir('odd-clean', {
      'tokenizer.json': unigramJson(PIECES, []),
      'tokenizer_config.json': { tokenizer_class: 'XLMRobertaTokenizer', bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>' },
      'config.json': { text_cfg: { hf_tokenizer_name: 'x', tokenizer_kwargs: { clean: 'shout' } } },
    });
    expect(await usageFailure(() => loadFedTokenizer(dir))).toMatch(/config\.json: tokenizer_kwargs\.clean is "shout"/);
  });
});

describe('transformers SiglipTokenizer cleaning (no open_clip config)', () => {
  // ids: 4 ▁a, 5 ▁photo, 6 ▁of, 7 ▁dog, 8 ▁; SigLIP layout: </s> appended, pad </s>
  const files = (cfg: object) => ({ 'tokenizer.json': unigramJson(PIECES, []), 'tokenizer_config.json': { eos_token: '</s>', pad_token: '</s>', unk_token: '<unk>', model_max_length: 64, ...cfg } });
  it('SiglipTokenizer lower-cases and strips punctuation before tokenising (hand-worked)', () => {
    const tok = loadFedTokenizer(writeDir('hf-siglip', files({ tokenizer_class: 'SiglipTokenizer' })));
    expect([tok.family, tok.clean, tok.contextLength]).toEqual(['siglip', 'transformers_siglip', 64]);
    expect(tok.row('A Photo, of a DOG!').ids.slice(0, 7)).toEqual([4, 5, 6, 4, 7, 2, 2]);
  });
  it('T5Tokenizer (open_clip\'s import of SigLIP vocabularies) does not: the text goes in as it is', () => {
    const tok = loadFedTokenizer(writeDir('t5-siglip', files({ tokenizer_class: 'T5Tokenizer' })));
    expect(tok.clean).toBe('none');
    expect(tok.row('a photo of a dog').ids.slice(0, 6)).toEqual([4, 5, 6, 4, 7, 2]);
  });
  it('do_lower_case false keeps the case', () => {
    expect(loadFedTokenizer(writeDir('hf-siglip-cased', files({ tokenizer_class: 'SiglipTokenizer', do_lower_case: false }))).clean).toBe('transformers_siglip_cased');
  });
});
