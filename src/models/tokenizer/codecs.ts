/**
 * The byte-level codecs ftfy needs to undo mojibake: the single-byte charmaps it tries (with its
 * "sloppy" Windows variants), strict UTF-8, and ftfy's `utf-8-variants` (CESU-8 surrogate pairs and
 * Java's C0 80 null). Bytes are carried as binary strings (one char per byte, 0..255) so that the
 * byte-level regexes of ftfy port directly.
 */
import tables from './ftfy-tables.json' with { type: 'json' };

/** Thrown when bytes are not valid in the target encoding (Python's UnicodeDecodeError). */
export class DecodeError extends Error {}

export interface SingleByteCodec {
  readonly name: string;
  /** character for each byte 0..255 */
  readonly decodeTable: readonly string[];
  readonly encodeMap: ReadonlyMap<string, number>;
}

function makeCodec(name: string, table: string): SingleByteCodec {
  const decodeTable = Array.from(table);
  if (decodeTable.length !== 256) throw new Error(`charmap ${name} has ${decodeTable.length} entries`);
  return { name, decodeTable, encodeMap: new Map(decodeTable.map((c, b) => [c, b])) };
}

const charmaps = tables.charmaps as Record<string, string>;

/** ftfy's `CHARMAP_ENCODINGS`, in the order ftfy tries them. */
export const CHARMAP_CODECS: readonly SingleByteCodec[] = (tables.charmapOrder as string[]).map((n) => makeCodec(n, charmaps[n]));

const SLOPPY_1252 = CHARMAP_CODECS.find((c) => c.name === 'sloppy-windows-1252')!;
const LATIN1 = CHARMAP_CODECS.find((c) => c.name === 'latin-1')!;

/**
 * ftfy `possible_encoding`: could `text` have come from decoding bytes in this codec? (Every code
 * unit has a byte; astral characters and lone surrogates never do.)
 */
export function canEncode(text: string, codec: SingleByteCodec): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // ASCII other than 0x1A is identical in every codec ftfy uses (checked by the tests).
    if (c < 0x80 && c !== 0x1a) continue;
    if (!codec.encodeMap.has(text[i])) return false;
  }
  return true;
}

/** Encodes `text` (which must pass {@link canEncode}) to a binary string. */
export function encodeSingleByte(text: string, codec: SingleByteCodec): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c < 0x80 && c !== 0x1a ? text[i] : String.fromCharCode(codec.encodeMap.get(text[i])!);
  }
  return out;
}

/** Latin-1 is the identity on 0..255. */
export function encodeLatin1(text: string): string {
  if (!canEncode(text, LATIN1)) throw new DecodeError('not encodable as latin-1');
  return text;
}

// Windows-1252 leaves these bytes unassigned; Python's strict codec refuses them.
const CP1252_HOLES = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

/** Python `bytes.decode('windows-1252')` (strict). */
export function decodeWindows1252(binary: string): string {
  let out = '';
  for (let i = 0; i < binary.length; i++) {
    const b = binary.charCodeAt(i);
    if (CP1252_HOLES.has(b)) throw new DecodeError(`byte 0x${b.toString(16)} is undefined in windows-1252`);
    out += b === 0x1a ? '\x1a' : SLOPPY_1252.decodeTable[b];
  }
  return out;
}

/** ftfy `sloppy-windows-1252` decode of one byte (used for stray C1 controls). */
export function sloppy1252Char(byte: number): string {
  return SLOPPY_1252.decodeTable[byte];
}

// ignoreBOM: Python keeps a leading U+FEFF as text.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Python `bytes.decode('utf-8')` (strict) of a binary string. */
export function decodeUtf8(binary: string): string {
  try {
    return strictUtf8.decode(Buffer.from(binary, 'latin1'));
  } catch (e) {
    throw new DecodeError('invalid UTF-8', { cause: e });
  }
}

// CESU-8 encodes an astral character as two 3-byte surrogates: ED A0-AF xx ED B0-BF xx.
const UTF8_VARIANT_SPECIAL = /\xc0\x80|\xed[\xa0-\xaf][\x80-\xbf]\xed[\xb0-\xbf][\x80-\xbf]/g;

/** ftfy `utf-8-variants` decode: UTF-8 plus CESU-8 surrogate pairs and `C0 80` for U+0000. */
export function decodeUtf8Variants(binary: string): string {
  let out = '';
  let last = 0;
  for (const m of binary.matchAll(UTF8_VARIANT_SPECIAL)) {
    out += decodeUtf8(binary.slice(last, m.index));
    const s = m[0];
    if (s.length === 2) {
      out += '\u0000';
    } else {
      const b = (i: number) => s.charCodeAt(i);
      out += String.fromCodePoint(((b(1) & 0x0f) << 16) + ((b(2) & 0x3f) << 10) + ((b(4) & 0x0f) << 6) + (b(5) & 0x3f) + 0x10000);
    }
    last = m.index + s.length;
  }
  return out + decodeUtf8(binary.slice(last));
}
