/**
 * sentencepiece's Precompiled (nmt_nfkc) normaliser, read from the `precompiled_charsmap` of a
 * tokenizer.json. `@huggingface/tokenizers` ignores the table and approximates it with NFKC, which
 * differs on U+200D, on characters Unicode 14+ decomposes and on combining marks out of order; this
 * applies the table itself, as sentencepiece's `Normalizer::NormalizePrefix` does.
 *
 * Blob layout (sentencepiece normalizer.cc): uint32 LE trie size in bytes, a Darts-clone double
 * array of uint32 units over UTF-8 bytes, then NUL-terminated replacement strings; a trie value is
 * the offset of its replacement.
 */
import { UsageError } from '../../errors.js';

const REPLACEMENT_CHAR = Buffer.from('\uFFFD', 'utf8');

export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly replacements: Buffer;

  /** `blob`: the decoded `precompiled_charsmap`; `file` names it in errors. */
  constructor(blob: Buffer, file?: string) {
    if (blob.length < 4) throw new UsageError('precompiled_charsmap is shorter than its 4-byte header', { file, fix: 'use a tokenizer.json written by Hugging Face\'s converter' });
    const trieSize = blob.readUInt32LE(0);
    if (trieSize % 4 !== 0 || 4 + trieSize > blob.length) {
      throw new UsageError(`precompiled_charsmap says its trie is ${trieSize} bytes, but the table is ${blob.length} bytes`, { file, fix: 'use a tokenizer.json written by Hugging Face\'s converter' });
    }
    this.units = new Uint32Array(trieSize / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = blob.readUInt32LE(4 + 4 * i);
    this.replacements = blob.subarray(4 + trieSize);
  }

  static fromBase64(b64: string, file?: string): PrecompiledCharsmap {
    return new PrecompiledCharsmap(Buffer.from(b64, 'base64'), file);
  }

  /**
   * Darts `commonPrefixSearch` keeping the longest match: [replacement offset, matched bytes], or
   * undefined when no prefix of `bytes[start..]` is in the table.
   */
  private longestMatch(bytes: Uint8Array, start: number): [number, number] | undefined {
    const u = this.units;
    let best: [number, number] | undefined;
    let node = offset(u[0]);
    for (let i = start; i < bytes.length; i++) {
      node ^= bytes[i];
      const unit = u[node];
      if (unit === undefined || label(unit) !== bytes[i]) break;
      node ^= offset(unit);
      if (hasLeaf(unit)) best = [u[node] & 0x7fffffff, i + 1 - start];
    }
    return best;
  }

  /** The text with the longest table match replaced at each position (other characters copied). */
  normalize(text: string): string {
    const bytes = Buffer.from(text, 'utf8');
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < bytes.length) {
      const hit = this.longestMatch(bytes, pos);
      if (hit) {
        const [valueOffset, length] = hit;
        const end = this.replacements.indexOf(0, valueOffset);
        out.push(this.replacements.subarray(valueOffset, end < 0 ? this.replacements.length : end));
        pos += length;
      } else {
        const length = utf8Length(bytes[pos]);
        // Buffer.from(string) never yields malformed UTF-8; the guard keeps the table honest.
        out.push(pos + length <= bytes.length ? bytes.subarray(pos, pos + length) : REPLACEMENT_CHAR);
        pos += length;
      }
    }
    return Buffer.concat(out).toString('utf8');
  }
}

// Darts-clone unit fields.
const hasLeaf = (unit: number) => ((unit >>> 8) & 1) === 1;
const label = (unit: number) => unit & ((1 << 31) | 0xff);
const offset = (unit: number) => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);

function utf8Length(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  return 2;
}
