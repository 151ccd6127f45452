/**
 * The checkpoint's text path per family, through echo models (tests/support/echo-model.ts) whose
 * embeddings say what the text tower was fed: the golden rows of the reference sentencepiece tokenizers
 * (spm/, README there) must arrive as they are, at the full context length (SigLIP 64 even on a dynamic
 * graph, XLM-R 77 with its mask), NLLB with its language code first; CLIP alone is cut after the
 * longest row. Bad input (vocabulary past the embedding table, context past the positions, unreadable
 * model type, NLLB without a language) fails through the CLI with one line, exit 2. `inspect` states
 * the rule.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { toyTowers } from '../src/fixtures/fixture-models.js';
import { loadCheckpoint } from '../src/models/checkpoint.js';
import { FLORES200_FILE, floresCode, loadFedTokenizer, loadTokenizerFromDir } from '../src/models/tokenizer/index.js';
import { packageRoot } from '../src/paths.js';
import { echoOf, readEcho, type EchoTextOptions, writeEchoModel, ECHO_DIM } from './support/echo-model.js';
import { reference, referencePath } from './support/reference.js';
import { usageFailureSync } from './support/usage-failure.js';

interface GoldenRow {
  text: string;
  category: string;
  ids: number[];
  attention_mask: number[];
  open_clip_clean: string;
  open_clip_ids: number[];
  tokenizer_json_note?: string;
}

const spm = reference('spm', 'family text feeding against sentencepiece golden rows');
const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-feeding-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => path.join(tmp, `${name}-${n++}`);

const golden = (dir: string): GoldenRow[] =>
  gunzipSync(readFileSync(referencePath('spm', dir, 'tokens-public.jsonl.gz'))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as GoldenRow);

/** A spread of plain golden rows (no special spellings or normaliser notes): short, multilingual, and every row cut at the context. */
function sampleRows(dir: string, ctx: number): GoldenRow[] {
  const plain = golden(dir).filter((r) => r.tokenizer_json_note === undefined);
  const full = plain.filter((r) => r.attention_mask.reduce((a, b) => a + b, 0) === ctx);
  expect(full.length).toBeGreaterThan(0);
  return [...plain.filter((_, i) => i % 97 === 0), ...full.slice(0, 3)];
}

/** The reference tokenizer's files, linked (never copied) into a model's textual/ folder. */
const linkTokenizer = (dir: string, family: string) => {
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) symlinkSync(referencePath('spm', family, f), path.join(dir, 'textual', f));
};

function echoModel(text: EchoTextOptions, family: string | null, top: Record<string, string> = {}, textual: Record<string, string> = {}): string {
  const dir = writeEchoModel(fresh('echo'), text, textual, top);
  if (family) linkTokenizer(dir, family);
  return dir;
}

async function echoes(dir: string, texts: string[], opts: Parameters<typeof loadCheckpoint>[1] = {}) {
  const ckpt = await loadCheckpoint(dir, opts);
  try {
    const emb = await ckpt.encodeTexts(texts);
    expect(emb.length).toBe(texts.length * ECHO_DIM);
    return { ckpt, got: texts.map((_, i) => readEcho(emb.subarray(i * ECHO_DIM, (i + 1) * ECHO_DIM))) };
  } finally {
    await ckpt.release();
  }
}

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
}

/** A rejected CLI call: exit 2, one line on stderr, nothing on stdout. */
function rejected(args: string[]): string {
  const r = cli(args);
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0];
}

describe.skipIf(!spm.present)('SigLIP rows are fed as trained: X </s>, padded to exactly 64', () => {
  const siglipCfg = JSON.stringify({ embed_dim: ECHO_DIM, text_cfg: { context_length: 64, tokenizer_kwargs: { clean: 'canonicalize' } } });

  it.each([
    ['Immich static [1,64]', { batch: 1, seq: 64 }],
    ['dynamic batch and sequence', { seq: 'sequence' }],
  ] as const)('%s: every row is the golden open_clip row (canonicalize), all 64 positions, no mask', async (_, shape) => {
    const dir = echoModel({ ...shape, vocab: 8000, positions: 64 }, 'siglip-style', { 'config.json': siglipCfg });
    const rows = sampleRows('siglip-style', 64).filter((r) => !/<\/?s>|<pad>|<unk>/.test(r.open_clip_clean));
    const { ckpt, got } = await echoes(dir, rows.map((r) => r.text));
    expect([ckpt.family, ckpt.textTokenizer.contextLength, ckpt.cutsTextToLongest]).toEqual(['siglip', 64, false]);
    expect(got).toEqual(rows.map((r) => echoOf(r.open_clip_ids, null)));
    // the pooled last position is the pad </s> of a short row, never a content token
    expect(got.filter((e, i) => rows[i].open_clip_ids.length === 64 && e.last === 1).length).toBe(rows.length);
  });

  it('without an open_clip config the class rule alone: golden sentencepiece ids', async () => {
    const dir = echoModel({ seq: 'sequence', vocab: 8000, positions: 64 }, 'siglip-style');
    const rows = sampleRows('siglip-style', 64);
    const { got } = await echoes(dir, rows.map((r) => r.text));
    expect(got).toEqual(rows.map((r) => echoOf(r.ids, null)));
  });

  it('a manifest\'s contextLength overrides the configs\': 32 positions, content cut to 31 + </s>', async () => {
    const dir = echoModel({ seq: 32, mask: 'mask', vocab: 8000, positions: 32 }, 'siglip-style');
    writeFileSync(path.join(dir, 'clip-bench.json'), JSON.stringify({
      visual: { file: 'visual/model.onnx', input: 'image', output: 'embedding' },
      textual: { file: 'textual/model.onnx', input: 'text', output: 'embedding', attentionMask: 'mask' },
      tokenizer: 'textual/tokenizer.json',
      preprocess: 'visual/preprocess_cfg.json',
      contextLength: 32,
    }));
    const rows = sampleRows('siglip-style', 64);
    const cut = (ids: number[], mask: number[]) => {
      const len = mask.reduce((a, b) => a + b, 0);
      return len <= 32 ? { ids: ids.slice(0, 32), mask: mask.slice(0, 32) } : { ids: [...ids.slice(0, 31), 1], mask: Array<number>(32).fill(1) };
    };
    const { ckpt, got } = await echoes(dir, rows.map((r) => r.text));
    expect([ckpt.layout, ckpt.textTokenizer.contextLength]).toEqual(['manifest', 32]);
    expect(got.some((e) => e.maskSum === 32)).toBe(true);
    expect(got).toEqual(rows.map((r) => cut(r.ids, r.attention_mask)).map((c) => echoOf(c.ids, c.mask)));
    expect(ckpt.files).toEqual(expect.arrayContaining(['clip-bench.json', 'textual/tokenizer.json', 'textual/tokenizer_config.json', 'textual/special_tokens_map.json']));
  });

  it('truncated(text) is true exactly where the row with room to spare is longer than 64', () => {
    const tok = loadFedTokenizer(referencePath('spm', 'siglip-style'));
    const roomy = loadFedTokenizer(referencePath('spm', 'siglip-style'), { contextLength: 1000 });
    const texts = golden('siglip-style').map((r) => r.text);
    const longer = texts.filter((t) => roomy.row(t).attention_mask.reduce((a, b) => a + b, 0) > 64);
    expect(longer.length).toBeGreaterThan(0);
    expect(texts.filter((t) => tok.truncated(t))).toEqual(longer);
  });
});

describe.skipIf(!spm.present)('XLM-R (M-CLIP) rows: <s> X </s>, padded to 77 with 1, mask fed', () => {
  it.each(['int32', 'int64'] as const)('%s ids and mask on a dynamic graph: golden ids and the mask sum, all 77 positions', async (dtype) => {
    const dir = echoModel({ seq: 'sequence', dtype, mask: 'attention_mask', vocab: 8002, positions: 77 }, 'xlmr-style');
    const rows = sampleRows('xlmr-style', 77);
    const { ckpt, got } = await echoes(dir, rows.map((r) => r.text));
    expect([ckpt.family, ckpt.cutsTextToLongest, ckpt.textual.mask?.type]).toEqual(['xlmr', false, dtype]);
    expect(got).toEqual(rows.map((r) => echoOf(r.ids, r.attention_mask)));
  });

  it('a fixed batch of 1 pads nothing into the rows: same echoes one text at a time', async () => {
    const dir = echoModel({ batch: 1, seq: 77, mask: 'attention_mask', vocab: 8002, positions: 77 }, 'xlmr-style');
    const rows = sampleRows('xlmr-style', 77).slice(0, 5);
    const { got } = await echoes(dir, rows.map((r) => r.text));
    expect(got).toEqual(rows.map((r) => echoOf(r.ids, r.attention_mask)));
  });
});

describe.skipIf(!spm.present)('NLLB rows: the FLORES-200 language code, then the content and </s>', () => {
  /** The xlmr-style vocabulary with two language-code added tokens, as an NLLB tokenizer. */
  function nllbModel(): { dir: string; ids: Record<string, number> } {
    const json = JSON.parse(readFileSync(referencePath('spm', 'xlmr-style', 'tokenizer.json'), 'utf8')) as { added_tokens: { id: number; content: string }[] };
    const ids = { fra_Latn: 8002, eng_Latn: 8003 };
    for (const [content, id] of Object.entries(ids)) json.added_tokens.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true } as never);
    const cfg = JSON.parse(readFileSync(referencePath('spm', 'xlmr-style', 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const dir = echoModel({ seq: 'sequence', mask: 'attention_mask', vocab: 8004, positions: 77 }, null, {}, {
      'tokenizer.json': JSON.stringify(json),
      'tokenizer_config.json': JSON.stringify({ ...cfg, tokenizer_class: 'NllbTokenizerFast' }),
    });
    return { dir, ids };
  }

  it.each([['fr', 'fra_Latn'], ['fra_Latn', 'fra_Latn'], ['eng', 'eng_Latn']] as const)('--language %s: the golden XLM-R row with %s in place of <s>', async (language, code) => {
    const { dir, ids } = nllbModel();
    const rows = sampleRows('xlmr-style', 77);
    const { ckpt, got } = await echoes(dir, rows.map((r) => r.text), { language });
    expect(ckpt.family).toBe('nllb');
    expect(got).toEqual(rows.map((r) => echoOf([ids[code], ...r.ids.slice(1)], r.attention_mask)));
  });

  it('without --language: exit 2, one line naming tokenizer.json and the fix; inspect with it describes the row', () => {
    const { dir } = nllbModel();
    expect(rejected(['inspect', '--model', dir])).toMatch(/textual[/\\]tokenizer\.json: an NLLB tokenizer puts the language code before the text.*--language/);
    const r = cli(['inspect', '--model', dir, '--language', 'fr', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { tokenizer: { feeding: string } }).tokenizer.feeding).toBe('nllb: Unigram, fra_Latn X </s>, pad to 77 with 1 (<pad>), attention_mask fed');
  });
});

describe('CLIP rows: cut after the longest row only on a dynamic sequence axis', () => {
  const texts = ['a photo of a red thing.', 'red', 'a photo of a blue thing and a green thing.'];
  const tokJson = JSON.stringify(toyTowers(texts).tokenizerJson);

  it.each([
    ['dynamic', 'sequence', true],
    ['fixed 77', 77, false],
  ] as const)('%s: fed length is the longest row / 77; ids and mask as clip.tokenize', async (_, seq, cut) => {
    const dir = echoModel({ seq, mask: 'attention_mask', vocab: 49408, positions: 77 }, null, {}, { 'tokenizer.json': tokJson });
    const clip = loadTokenizerFromDir(dir);
    const rows = texts.map((t) => clip.tokenize(t));
    const longest = Math.max(...rows.map((r) => r.length));
    const { ckpt, got } = await echoes(dir, texts);
    expect([ckpt.family, ckpt.cutsTextToLongest]).toEqual(['clip', cut]);
    const width = cut ? longest : 77;
    expect(got).toEqual(rows.map((r) => {
      const ids = [...r, ...Array<number>(width - r.length).fill(clip.padId)];
      return echoOf(ids, ids.map((_, i) => (i < r.length ? 1 : 0)));
    }));
  });
});

describe.skipIf(!spm.present)('bad input: one line naming the file and the fix, exit 2', () => {
  it('a vocabulary larger than the embedding table (ids up to 7999, table of 7999)', () => {
    const dir = echoModel({ seq: 'sequence', vocab: 7999, positions: 64 }, 'siglip-style');
    expect(rejected(['inspect', '--model', dir])).toMatch(/textual[/\\]tokenizer\.json: the tokenizer's ids go up to 7999, past the text model's embedding table .*--tokenizer/);
  });

  it('a dynamic graph whose position table is shorter than the context (32 < 64)', () => {
    const dir = echoModel({ seq: 'sequence', vocab: 8000, positions: 32 }, 'siglip-style');
    expect(rejected(['inspect', '--model', dir])).toMatch(/textual[/\\]model\.onnx: the text graph fails on a row of 64 tokens, the tokenizer's context length/);
  });

  it('a fixed sequence axis that is not the context length', () => {
    const dir = echoModel({ seq: 77, vocab: 8000, positions: 77 }, 'siglip-style');
    expect(rejected(['inspect', '--model', dir])).toMatch(/textual[/\\]model\.onnx: text input "text" expects 77 tokens but the tokenizer gives 64/);
  });

  it('a tokenizer model type the library cannot read', () => {
    const json = JSON.parse(readFileSync(referencePath('spm', 'siglip-style', 'tokenizer.json'), 'utf8')) as { model: { type: string } };
    json.model.type = 'WordPieceMax';
    const dir = echoModel({ seq: 'sequence', vocab: 8000, positions: 64 }, null, {}, { 'tokenizer.json': JSON.stringify(json), 'tokenizer_config.json': readFileSync(referencePath('spm', 'siglip-style', 'tokenizer_config.json'), 'utf8') });
    expect(rejected(['inspect', '--model', dir])).toMatch(/textual[/\\]tokenizer\.json: tokenizer model type "WordPieceMax" cannot be read \(known: BPE, Unigram, WordPiece, WordLevel\)/);
  });

  it('an unknown --language, with the codes it knows', () => {
    expect(usageFailureSync(() => floresCode('klingon'))).toMatch(/flores200\.json: unknown language "klingon".* — pass --language with a FLORES-200 code or one of: .*\bfr\b/);
  });
});

describe.skipIf(!spm.present)('inspect states the family, model type, padding rule and cleaning', () => {
  it('SigLIP on a dynamic graph and XLM-R with its mask, text and --json', () => {
    const siglip = echoModel({ seq: 'sequence', vocab: 8000, positions: 64 }, 'siglip-style', { 'config.json': JSON.stringify({ text_cfg: { context_length: 64, tokenizer_kwargs: { clean: 'canonicalize' } } }) });
    const xlmr = echoModel({ seq: 'sequence', mask: 'attention_mask', vocab: 8002, positions: 77 }, 'xlmr-style');
    const text = cli(['inspect', '--model', siglip]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^family\s+siglip$/m);
    expect(text.stdout).toMatch(/^text rows\s+siglip: Unigram, X <\/s>, pad to 64 with 1 \(<\/s>\), no mask fed$/m);
    expect(text.stdout).toMatch(/^cleaning\s+canonicalize$/m);
    const j = JSON.parse(cli(['inspect', '--model', xlmr, '--json']).stdout) as { family: string; tokenizer: Record<string, unknown>; files: string[] };
    expect(j.family).toBe('xlmr');
    expect(j.tokenizer).toMatchObject({ file: 'textual/tokenizer.json', modelType: 'Unigram', contextLength: 77, padId: 1, padToken: '<pad>', clean: 'none', attentionMaskFed: true, cutToLongest: false, feeding: 'xlmr: Unigram, <s> X </s>, pad to 77 with 1 (<pad>), attention_mask fed' });
    expect(j.files).toEqual(expect.arrayContaining(['textual/tokenizer.json', 'textual/tokenizer_config.json', 'textual/special_tokens_map.json']));
  });
});

describe.skipIf(!spm.present)('--tokenizer replaces the layout\'s tokenizer, and the fingerprint follows what is read', () => {
  it('a model folder without a tokenizer loads with --tokenizer; its files are fingerprinted; special_tokens_map.json counts', async () => {
    const dir = echoModel({ seq: 'sequence', vocab: 8000, positions: 64 }, null);
    expect(rejected(['inspect', '--model', dir])).toMatch(/no tokenizer in the model folder/);
    const tokDir = fresh('tokenizer');
    mkdirSync(tokDir);
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) symlinkSync(referencePath('spm', 'siglip-style', f), path.join(tokDir, f));
    writeFileSync(path.join(tokDir, 'special_tokens_map.json'), readFileSync(referencePath('spm', 'siglip-style', 'special_tokens_map.json')));
    const inspect = () => JSON.parse(cli(['inspect', '--model', dir, '--tokenizer', tokDir, '--json']).stdout) as { fingerprint: string; files: string[]; family: string };
    const before = inspect();
    const rel = path.relative(dir, tokDir).split(path.sep).join('/');
    expect(before.family).toBe('siglip');
    expect(before.files).toEqual(expect.arrayContaining([`${rel}/tokenizer.json`, `${rel}/tokenizer_config.json`, `${rel}/special_tokens_map.json`]));
    const rows = sampleRows('siglip-style', 64).slice(0, 4);
    const { got } = await echoes(dir, rows.map((r) => r.text), { tokenizer: tokDir });
    expect(got).toEqual(rows.map((r) => echoOf(r.ids, null)));
    writeFileSync(path.join(tokDir, 'special_tokens_map.json'), JSON.stringify({ eos_token: '</s>', pad_token: '</s>', unk_token: '<unk>', extra: 1 }));
    expect(inspect().fingerprint).not.toBe(before.fingerprint);
  });

  it('--tokenizer on a folder that has its own: the override is what is read and joins the fingerprint', async () => {
    const dir = echoModel({ seq: 'sequence', vocab: 8002, positions: 77 }, 'xlmr-style');
    const plain = await loadCheckpoint(dir);
    await plain.release();
    const ckpt = await loadCheckpoint(dir, { tokenizer: referencePath('spm', 'siglip-style', 'tokenizer.json') });
    await ckpt.release();
    expect([plain.family, ckpt.family]).toEqual(['xlmr', 'siglip']);
    expect(ckpt.files.filter((f) => f.endsWith('siglip-style/tokenizer.json') || f.endsWith('siglip-style/tokenizer_config.json'))).toHaveLength(2);
    expect(ckpt.fingerprint).not.toBe(plain.fingerprint);
  });
});

describe('--language codes (configs/languages/flores200.json)', () => {
  const xm3600 = 'ar bn cs da de el en es fa fi fil fr he hi hr hu id it ja ko mi nl no pl pt quz ro ru sv sw te th tr uk vi zh'.split(' ');

  it('every Crossmodal-3600 language and CLIP_benchmark\'s cn / jp map to a FLORES-200 code; FLORES codes pass as they are', () => {
    expect(xm3600).toHaveLength(36);
    for (const l of xm3600) expect(floresCode(l), l).toMatch(/^[a-z]{3}_[A-Z][a-z]{3}$/);
    expect(['fr', 'fra', 'FR', 'fra_Latn', 'cn', 'jp', 'it', 'ar'].map(floresCode)).toEqual(['fra_Latn', 'fra_Latn', 'fra_Latn', 'fra_Latn', 'zho_Hans', 'jpn_Jpan', 'ita_Latn', 'arb_Arab']);
  });

  it('the data file names its source, and no code maps to two languages', () => {
    const data = JSON.parse(readFileSync(FLORES200_FILE, 'utf8')) as { source: string; languages: { iso639_1?: string; iso639_3: string; flores200: string }[] };
    expect(data.source).toMatch(/flores200/);
    const keys = data.languages.flatMap((e) => [e.iso639_1, e.iso639_3].filter((k) => k !== undefined));
    expect(new Set(keys).size).toBe(keys.length);
  });
});
