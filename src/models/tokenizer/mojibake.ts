/**
 * ftfy 6.3.1 `fix_encoding`: find text that is UTF-8 decoded in a single-byte encoding (mojibake,
 * e.g. "cafÃ©") and decode it again properly. Same plan, same order, same heuristics as ftfy, so
 * that CLIP's text cleaning is reproduced exactly.
 */
import tables from './ftfy-tables.json' with { type: 'json' };
import { isBad } from './badness.js';
import {
  CHARMAP_CODECS, DecodeError, canEncode, decodeUtf8, decodeUtf8Variants, decodeWindows1252, encodeLatin1,
  encodeSingleByte, sloppy1252Char,
} from './codecs.js';

const clues = tables.utf8Clues as Record<string, string>;

// UTF-8 sequences where a 0xA0 byte was turned into a space by some Windows-1252 program.
const ALTERED_UTF8_RE = /[\xc2\xc3\xc5\xce\xd0\xd9][ ]|[\xe2\xe3][ ][\x80-\x84\x86-\x9f\xa1-\xbf]|[\xe0-\xe3][\x80-\x84\x86-\x9f\xa1-\xbf][ ]|[\xf0][ ][\x80-\xbf][\x80-\xbf]|[\xf0][\x80-\xbf][ ][\x80-\xbf]|[\xf0][\x80-\xbf][\x80-\xbf][ ]/g;

// "Ã " as a word is "à " whose NBSP was lost; keep the space (Portuguese contractions excepted).
const A_GRAVE_WORD_RE = /\xc3 (?! |quele|quela|quilo|s )/g;

// UTF-8 sequences with bytes lost to U+FFFD (0x1A in the sloppy codecs): decode them as one U+FFFD.
const LOSSY_UTF8_RE = /[\xc2-\xdf][\x1a]|[\xc2-\xc3][?]|\xed[\xa0-\xaf][\x1a?]\xed[\xb0-\xbf][\x1a?\x80-\xbf]|\xed[\xa0-\xaf][\x1a?\x80-\xbf]\xed[\xb0-\xbf][\x1a?]|[\xe0-\xef][\x1a?][\x1a\x80-\xbf]|[\xe0-\xef][\x1a\x80-\xbf][\x1a?]|[\xf0-\xf4][\x1a?][\x1a\x80-\xbf][\x1a\x80-\xbf]|[\xf0-\xf4][\x1a\x80-\xbf][\x1a?][\x1a\x80-\xbf]|[\xf0-\xf4][\x1a\x80-\xbf][\x1a\x80-\xbf][\x1a?]|\x1a/g;
const UTF8_REPLACEMENT_BYTES = '\xef\xbf\xbd';

// Runs of characters that look like UTF-8 read as a single-byte encoding, not preceded by another
// continuation-like character (so a few characters inside a larger garble are not "fixed").
const UTF8_DETECTOR_RE = new RegExp(
  `(?<![${clues.utf8_continuation_strict}])` +
    `(?:[${clues.utf8_first_of_2}][${clues.utf8_continuation}]` +
    `|[${clues.utf8_first_of_3}][${clues.utf8_continuation}]{2}` +
    `|[${clues.utf8_first_of_4}][${clues.utf8_continuation}]{3})+`,
  'gu',
);

const C1_CONTROL_RE = /[\x80-\x9f]/g;
const ASCII_ONLY_RE = /^[\x00-\x7f]*$/;

/** ftfy `restore_byte_a0` on a binary string. */
function restoreByteA0(binary: string): string {
  return binary.replace(A_GRAVE_WORD_RE, '\xc3\xa0 ').replace(ALTERED_UTF8_RE, (m) => m.replaceAll(' ', '\xa0'));
}

/** ftfy `fix_c1_controls`: stray C1 controls are read as Windows-1252, as browsers do. */
export function fixC1Controls(text: string): string {
  return text.replace(C1_CONTROL_RE, (ch) => sloppy1252Char(ch.charCodeAt(0)));
}

/** ftfy `decode_inconsistent_utf8`: fix mojibake embedded in otherwise fine text. */
function decodeInconsistentUtf8(text: string): string {
  return text.replace(UTF8_DETECTOR_RE, (sub) => (sub.length < text.length && isBad(sub) ? fixEncoding(sub) : sub));
}

/** One step of ftfy `_fix_encoding_one_step_and_explain`; returns `text` itself when there is nothing to do. */
function fixEncodingOneStep(text: string): string {
  if (text.length === 0 || ASCII_ONLY_RE.test(text) || !isBad(text)) return text;

  const possible: string[] = [];
  for (const codec of CHARMAP_CODECS) {
    if (!canEncode(text, codec)) continue;
    possible.push(codec.name);
    let bytes = encodeSingleByte(text, codec);
    try {
      ALTERED_UTF8_RE.lastIndex = 0;
      if (codec.name !== 'macroman' && ALTERED_UTF8_RE.test(bytes)) bytes = restoreByteA0(bytes);
      if (codec.name.startsWith('sloppy')) bytes = bytes.replace(LOSSY_UTF8_RE, UTF8_REPLACEMENT_BYTES);
      return bytes.includes('\xed') || bytes.includes('\xc0') ? decodeUtf8Variants(bytes) : decodeUtf8(bytes);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  }

  UTF8_DETECTOR_RE.lastIndex = 0;
  if (UTF8_DETECTOR_RE.test(text)) {
    const fixed = decodeInconsistentUtf8(text);
    if (fixed !== text) return fixed;
  }

  // ftfy checks for "windows-1252" in a list that only ever holds "sloppy-windows-1252", so text that
  // fits Latin-1 always gets this Latin-1 → Windows-1252 attempt.
  if (possible.includes('latin-1')) {
    try {
      const fixed = decodeWindows1252(encodeLatin1(text));
      if (fixed !== text) return fixed;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  }

  C1_CONTROL_RE.lastIndex = 0;
  if (C1_CONTROL_RE.test(text)) return fixC1Controls(text);
  return text;
}

/** ftfy `fix_encoding`: repeat the one-step fix until the text stops changing. */
export function fixEncoding(text: string): string {
  for (;;) {
    const next = fixEncodingOneStep(text);
    if (next === text) return text;
    text = next;
  }
}
