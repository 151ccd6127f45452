/** `clip-bench tokenize --as-fed` through the built executable (needs `npm run build`, which `npm test` does first). */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemo, type DemoPaths } from '../src/fixtures/demo.js';
import { loadTokenizerFromDir } from '../src/models/tokenizer/index.js';
import { packageRoot } from '../src/paths.js';
import { checkTokenizeFlags } from '../src/cli/tokenize.js';
import { reference, referencePath } from './support/reference.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const spm = reference('spm', 'clip-bench tokenize --as-fed against the sentencepiece goldens');
let tmp: string;
let demo: DemoPaths;

const run = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [bin, 'tokenize', ...args], { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-tokenize-'));
  demo = await writeDemo(path.join(tmp, 'demo'), 1);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('clip-bench tokenize --as-fed', () => {
  it('CLIP: one {"ids","attention_mask"} object per text, the clip.tokenize row padded to the context length', () => {
    const r = run(['--model', demo.model, '--as-fed', '--text', 'A RED square.', '--text', 'blue']);
    expect(r.code).toBe(0);
    const tok = loadTokenizerFromDir(demo.model);
    const batch = tok.tokenizeBatch(['A RED square.', 'blue']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ids: number[]; attention_mask: number[] });
    expect(lines.map((l) => Object.keys(l))).toEqual([['ids', 'attention_mask'], ['ids', 'attention_mask']]);
    lines.forEach((l, i) => {
      expect(l.ids).toEqual([...batch.data.subarray(i * 77, (i + 1) * 77)]);
      expect(l.attention_mask).toEqual(l.ids.map((_, j) => (j <= batch.eotIndex[i] ? 1 : 0)));
    });
  });

  for (const [family, flag] of [['siglip-style', '--tokenizer'], ['xlmr-style', '--model']] as const) {
    it.skipIf(!spm.present)(`${family} (${flag}): stdin lines give the golden rows`, () => {
      const all = gunzipSync(readFileSync(referencePath('spm', family, 'tokens-public.jsonl.gz'))).toString('utf8').trim().split('\n')
        .map((l) => JSON.parse(l) as { text: string; ids: number[]; attention_mask: number[]; tokenizer_json_note?: string })
        .filter((r) => !r.tokenizer_json_note?.startsWith('special-spelling') && !/[\n\r\u2028\u2029\x85\v\f]/.test(r.text));
      expect(all.length).toBeGreaterThan(1900);
      const target = flag === '--tokenizer' ? referencePath('spm', family, 'tokenizer.json') : referencePath('spm', family);
      const r = run([flag, target, '--as-fed'], all.map((x) => x.text).join('\n') + '\n');
      expect(r.code, r.stderr).toBe(0);
      const got = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(got).toEqual(all.map((x) => ({ ids: x.ids, attention_mask: x.attention_mask })));
    });
  }

  it('refuses a tokenizer model type the library cannot read: one line naming the file, exit 2, nothing printed', () => {
    const dir = path.join(tmp, 'odd');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({ version: '1.0', added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, model: { type: 'Sentencepiece2000', vocab: [] } }));
    const r = run(['--tokenizer', path.join(dir, 'tokenizer.json'), '--as-fed', '--text', 'x']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/odd[/\\]tokenizer\.json: tokenizer model type "Sentencepiece2000" cannot be read/);
  });

  it('refuses --language for a tokenizer without a language prefix, and --no-truncate with --as-fed', () => {
    for (const args of [['--language', 'fra_Latn'], ['--as-fed', '--no-truncate']]) {
      const r = run(['--model', demo.model, ...args, '--text', 'x']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('checkTokenizeFlags', () => {
  it.each([
    [{ 'no-truncate': true, 'as-fed': true }, 'clip', /--no-truncate applies to CLIP ids without --as-fed/],
    [{ 'no-truncate': true, 'as-fed': false }, 'siglip', /--no-truncate applies to CLIP ids/],
    [{ 'no-truncate': false, 'as-fed': true, language: 'fra_Latn' }, 'xlmr', /--language sets the NLLB language-code prefix, and this is a xlmr tokenizer/],
    [{ 'no-truncate': false, 'as-fed': true, language: 'fra_Latn' }, 'nllb', null],
    [{ 'no-truncate': true, 'as-fed': false }, 'clip', null],
  ] as const)('%j on a %s tokenizer', (flags, family, message) => {
    const run = () => checkTokenizeFlags(flags, { family, source: 'tokenizer.json' });
    if (message === null) expect(run).not.toThrow();
    else expect(run).toThrow(message);
  });
});
