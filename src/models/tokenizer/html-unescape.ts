/**
 * Python's `html.unescape` (3.x): HTML5 named references (with and without the trailing `;`,
 * longest-prefix match for the semicolon-less legacy ones) and numeric references with the
 * WHATWG replacements. simple_tokenizer applies it twice after ftfy.
 */
import html5Json from './html-entities.json' with { type: 'json' };

/** `html.entities.html5`: entity name (e.g. `amp;`, `amp`) → replacement text. */
export const HTML5_ENTITIES: ReadonlyMap<string, string> = new Map(Object.entries(html5Json as Record<string, string>));

// Numeric references that the HTML5 spec maps elsewhere (mostly windows-1252 for 0x80..0x9f).
const INVALID_CHARREFS: ReadonlyMap<number, string> = new Map([
  [0x00, '\ufffd'], [0x0d, '\r'], [0x80, '\u20ac'], [0x81, '\x81'], [0x82, '\u201a'], [0x83, '\u0192'],
  [0x84, '\u201e'], [0x85, '\u2026'], [0x86, '\u2020'], [0x87, '\u2021'], [0x88, '\u02c6'], [0x89, '\u2030'],
  [0x8a, '\u0160'], [0x8b, '\u2039'], [0x8c, '\u0152'], [0x8d, '\x8d'], [0x8e, '\u017d'], [0x8f, '\x8f'],
  [0x90, '\x90'], [0x91, '\u2018'], [0x92, '\u2019'], [0x93, '\u201c'], [0x94, '\u201d'], [0x95, '\u2022'],
  [0x96, '\u2013'], [0x97, '\u2014'], [0x98, '\u02dc'], [0x99, '\u2122'], [0x9a, '\u0161'], [0x9b, '\u203a'],
  [0x9c, '\u0153'], [0x9d, '\x9d'], [0x9e, '\u017e'], [0x9f, '\u0178'],
]);

/** Code points that Python drops entirely when referenced numerically. */
function isInvalidCodepoint(n: number): boolean {
  return (n >= 0x1 && n <= 0x8) || n === 0xb || (n >= 0xe && n <= 0x1f) || (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) || (n & 0xfffe) === 0xfffe;
}

function numericCharref(body: string): string {
  const hex = body[1] === 'x' || body[1] === 'X';
  const digits = body.slice(hex ? 2 : 1).replace(/;$/, '');
  // Python has big integers: anything this long is out of range, and parseInt would lose precision.
  const n = digits.replace(/^0+/, '').length > 8 ? Infinity : parseInt(digits, hex ? 16 : 10);
  const mapped = INVALID_CHARREFS.get(n);
  if (mapped !== undefined) return mapped;
  if ((n >= 0xd800 && n <= 0xdfff) || n > 0x10ffff) return '\ufffd';
  if (isInvalidCodepoint(n)) return '';
  return String.fromCodePoint(n);
}

function namedCharref(name: string): string {
  const whole = HTML5_ENTITIES.get(name);
  if (whole !== undefined) return whole;
  // Longest prefix that is an entity (only the legacy semicolon-less names can match this way).
  const chars = Array.from(name);
  for (let x = chars.length - 1; x > 1; x--) {
    const hit = HTML5_ENTITIES.get(chars.slice(0, x).join(''));
    if (hit !== undefined) return hit + chars.slice(x).join('');
  }
  return '&' + name;
}

// `u`: Python counts {1,32} in code points.
const CHARREF_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

/** Python `html.unescape(s)`. */
export function htmlUnescape(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(CHARREF_RE, (_m, body: string) => (body[0] === '#' ? numericCharref(body) : namedCharref(body)));
}
