/**
 * simple_tokenizer's text cleaning: `whitespace_clean(basic_clean(text)).lower()`, i.e.
 * ftfy.fix_text → html.unescape twice → strip → collapse whitespace → strip → lowercase.
 */
import { fixText } from './ftfy.js';
import { htmlUnescape } from './html-unescape.js';

// Python `regex`'s \s: the Unicode White_Space property.
const WHITESPACE_RUN_RE = /[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;
// Python str.strip(): str.isspace(), which adds the information separators \x1c-\x1f.
const STRIP_RE = /^[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** Python `str.strip()` with no argument. */
export function pyStrip(text: string): string {
  return text.replace(STRIP_RE, '');
}

/** simple_tokenizer `basic_clean`: ftfy, two rounds of HTML unescaping, strip. */
export function basicClean(text: string): string {
  return pyStrip(htmlUnescape(htmlUnescape(fixText(text))));
}

/** simple_tokenizer `whitespace_clean`: every whitespace run becomes one space, then strip. */
export function whitespaceClean(text: string): string {
  return pyStrip(text.replace(WHITESPACE_RUN_RE, ' '));
}

/**
 * The full cleaning CLIP applies before pre-tokenisation. JavaScript's toLowerCase follows the same
 * Unicode full case mapping as Python's str.lower (including İ → i̇ and final sigma).
 */
export function cleanText(text: string): string {
  return whitespaceClean(basicClean(text)).toLowerCase();
}
