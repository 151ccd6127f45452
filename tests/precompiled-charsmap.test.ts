/** Our reading of sentencepiece's precompiled charsmap: a hand-built Darts trie, and the real nmt_nfkc table on the README's cases. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { PrecompiledCharsmap } from '../src/models/tokenizer/precompiled-charsmap.js';
import { reference, referencePath } from './support/reference.js';

/**
 * A Darts double array by hand, mapping "a" → "b" and "ab" → "X". Root offset 1, so "a" (0x61) sits at
 * 1^0x61 = 96; its offset 1 leads to 97, which holds its value (replacement at 0) and from which
 * "b" (0x62) sits at 97^0x62 = 3; that one's offset 1 leads to 2, the value of "ab" (replacement at 2).
 */
function handMadeBlob(): Buffer {
  const units = new Uint32Array(98);
  const LEAF = 1 << 8;
  const VALUE = 0x80000000;
  units[0] = 1 << 10; // root: offset 1
  units[96] = 0x61 | LEAF | (1 << 10); // "a", has a value, children at 96^1 = 97
  units[97] = (VALUE | 0) >>> 0; // value of "a": replacement at offset 0
  units[97 ^ 0x62] = 0x62 | LEAF | (1 << 10); // "ab" at 97^0x62 = 3, value at 3^1 = 2
  units[3 ^ 1] = (VALUE | 2) >>> 0; // value of "ab": replacement at offset 2
  const replacements = Buffer.from('b\0X\0', 'latin1');
  const header = Buffer.alloc(4);
  header.writeUInt32LE(units.length * 4);
  return Buffer.concat([header, Buffer.from(units.buffer), replacements]);
}

describe('PrecompiledCharsmap', () => {
  it('replaces the longest match at each position and copies other characters (hand-built trie)', () => {
    const map = new PrecompiledCharsmap(handMadeBlob());
    expect(map.normalize('xay')).toBe('xby');
    expect(map.normalize('abab a')).toBe('XX b');
    expect(map.normalize('é😀')).toBe('é😀');
  });

  it('refuses a table whose header overruns it', () => {
    const blob = handMadeBlob();
    blob.writeUInt32LE(1 << 20, 0);
    expect(() => new PrecompiledCharsmap(blob, 'tokenizer.json')).toThrow(UsageError);
  });

  const spm = reference('spm/siglip-style/tokenizer.json', 'the nmt_nfkc charsmap of the reference tokenizer');
  it.skipIf(!spm.present)('the real nmt_nfkc table: NFKC where Unicode agrees, sentencepiece where it does not (README causes 2-4)', () => {
    const json = JSON.parse(readFileSync(referencePath('spm', 'siglip-style', 'tokenizer.json'), 'utf8'));
    const map = PrecompiledCharsmap.fromBase64(json.normalizer.normalizers[0].precompiled_charsmap);
    expect(map.normalize('ﬁ Ａ ①')).toBe('fi A 1'); // as NFKC
    expect(map.normalize('a\u200db')).toBe('a\u200db'); // ZWJ kept (the library makes it a space)
    expect(map.normalize('\ua7f2')).toBe('\ua7f2'); // Unicode 14 compatibility character kept (ICU 17 decomposes it)
    expect(map.normalize('a\u0302\u0323')).toBe('\u00e2\u0323'); // longest known prefix, no reordering (NFKC gives ậ)
  });
});
