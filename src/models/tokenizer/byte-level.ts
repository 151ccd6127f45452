/**
 * GPT-2/CLIP byte-level alphabet (`bytes_to_unicode` in simple_tokenizer.py): every byte 0..255 gets a
 * printable character, so BPE can work on strings while staying lossless on arbitrary UTF-8.
 */

function buildByteAlphabet(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b); // '!'..'~'
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b); // '¡'..'¬'
  for (let b = 0xae; b <= 0xff; b++) printable.push(b); // '®'..'ÿ'
  const chars = new Array<string>(256);
  for (const b of printable) chars[b] = String.fromCharCode(b);
  // The rest (controls, space, NBSP, soft hyphen) are shifted to U+0100.. in byte order.
  let n = 0;
  for (let b = 0; b < 256; b++) if (chars[b] === undefined) chars[b] = String.fromCharCode(256 + n++);
  return chars;
}

/** `BYTE_TO_CHAR[b]` is the character standing for byte `b` (256 entries). */
export const BYTE_TO_CHAR: readonly string[] = buildByteAlphabet();

/**
 * The 256 byte characters in simple_tokenizer's vocabulary order (`bytes_to_unicode().values()`):
 * the printable bytes ascending, then the shifted ones (U+0100..U+0143). Ids 0..255 of CLIP's vocab.
 */
export const BYTE_VOCAB_ORDER: readonly string[] = [...BYTE_TO_CHAR].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));

/** Inverse of {@link BYTE_TO_CHAR}. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const utf8 = new TextEncoder();

/** A pre-token's UTF-8 bytes, each written as its byte-level character. */
export function toByteLevel(text: string): string {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Printable ASCII maps to itself: the common case needs no encoding at all.
    if (c < 0x21 || c > 0x7e) { ascii = false; break; }
  }
  if (ascii) return text;
  let out = '';
  for (const b of utf8.encode(text)) out += BYTE_TO_CHAR[b];
  return out;
}

