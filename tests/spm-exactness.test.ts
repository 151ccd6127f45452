/**
 * Non-CLIP tokenizer.json files against golden ids from Google's sentencepiece with each family's
 * rules (../shared/reference/spm, README there): every public row of both families, and how many
 * rows each of clip-bench's own steps (charsmap, float32 Viterbi) fixes over the plain library.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { HfTokenizer, type ExactSteps } from '../src/models/tokenizer/hf-tokenizer.js';
import { reference, referencePath } from './support/reference.js';

interface GoldenRow {
  text: string;
  category: string;
  ids: number[];
  attention_mask: number[];
  open_clip_clean: string;
  open_clip_ids: number[];
  tokenizer_json_ids?: number[];
  tokenizer_json_note?: string;
}

const spm = reference('spm', 'SentencePiece tokenizers against sentencepiece golden ids');
const FAMILIES = ['siglip-style', 'xlmr-style'] as const;

function rows(family: string): GoldenRow[] {
  return gunzipSync(readFileSync(referencePath('spm', family, 'tokens-public.jsonl.gz'))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as GoldenRow);
}

function library(family: string, steps: ExactSteps = {}): HfTokenizer {
  const dir = referencePath('spm', family);
  const json = JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8'));
  const config = JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8'));
  return new HfTokenizer(json, config, `${dir}/tokenizer.json`, steps);
}

/** The README's rule per family, written out independently of src/: content ids → the fed row. */
function goldenRule(family: string, content: number[]): number[] {
  if (family === 'siglip-style') return [...content.slice(0, 63), 1, ...new Array(64).fill(1)].slice(0, 64);
  return [0, ...content.slice(0, 75), 2, ...new Array(77).fill(1)].slice(0, 77);
}

/** What a tokenizer.json harness must give: sentencepiece's ids, except that special spellings are split out. */
const expected = (r: GoldenRow) => (r.tokenizer_json_note?.startsWith('special-spelling') ? r.tokenizer_json_ids! : r.ids);

describe.skipIf(!spm.present)('sentencepiece goldens through tokenizer.json', () => {
  for (const family of FAMILIES) {
    it(`${family}: every public row matches (ids)`, () => {
      const tok = library(family);
      const bad = rows(family).filter((r) => JSON.stringify(goldenRule(family, tok.encode(r.text))) !== JSON.stringify(expected(r)));
      expect(bad.map((r) => `${r.category}: ${JSON.stringify(r.text).slice(0, 60)}`)).toEqual([]);
    });
    it(`${family}: the plain library misses exactly the rows the README lists, and our charsmap fixes them`, () => {
      const all = rows(family);
      const plain = library(family, { charsmap: false, float32Viterbi: false });
      const mismatches = (tok: HfTokenizer) => all.filter((r) => JSON.stringify(goldenRule(family, tok.encode(r.text))) !== JSON.stringify(expected(r))).length;
      const normaliserRows = all.filter((r) => r.tokenizer_json_note && !r.tokenizer_json_note.startsWith('special-spelling')).length;
      expect(normaliserRows).toBeGreaterThan(0);
      expect(mismatches(plain)).toBe(normaliserRows);
      expect(mismatches(library(family, { charsmap: true, float32Viterbi: false }))).toBe(0);
    });
  }
});
