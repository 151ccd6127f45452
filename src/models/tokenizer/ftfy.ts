/**
 * `ftfy.fix_text` (ftfy 6.3.1, default settings) as CLIP's simple_tokenizer calls it: per line,
 * repeat [HTML entities → mojibake → C1 controls → Latin ligatures → character width → curly quotes
 * → line breaks → surrogates → terminal escapes → control characters → NFC] until nothing changes.
 */
import { HTML5_ENTITIES, htmlUnescape } from './html-unescape.js';
import { fixC1Controls, fixEncoding } from './mojibake.js';

/** ftfy's entity table: semicolon-terminated HTML5 names, plus all-caps forms such as `&EACUTE;`. */
function buildFtfyEntities(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, char] of HTML5_ENTITIES) {
    if (!name.endsWith(';')) continue;
    out.set('&' + name, char);
    if (name === name.toLowerCase()) {
      const upper = '&' + name.toUpperCase();
      // Only where the capitalised name means nothing to html.unescape: otherwise it is ambiguous.
      if (htmlUnescape(upper) === upper) out.set(upper, char.toUpperCase());
    }
  }
  return out;
}

let ftfyEntities: Map<string, string> | undefined;
const FTFY_ENTITY_RE = /&#?[0-9A-Za-z]{1,24};/g;

/** ftfy `unescape_html`: only unambiguous `;`-terminated references, decoded one level. */
export function ftfyUnescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  ftfyEntities ??= buildFtfyEntities();
  const table = ftfyEntities;
  return text.replace(FTFY_ENTITY_RE, (m) => {
    const named = table.get(m);
    if (named !== undefined) return named;
    if (m.startsWith('&#')) {
      const decoded = htmlUnescape(m);
      // html.unescape decoding only part of it (the ';' survives) is not what ftfy wants.
      return decoded.includes(';') ? m : decoded;
    }
    return m;
  });
}

const LIGATURES: ReadonlyMap<string, string> = new Map([
  ['Ĳ', 'IJ'], ['ĳ', 'ij'], ['ŉ', 'ʼn'], ['Ǳ', 'DZ'], ['ǲ', 'Dz'], ['ǳ', 'dz'], ['Ǆ', 'DŽ'], ['ǅ', 'Dž'], ['ǆ', 'dž'],
  ['Ǉ', 'LJ'], ['ǈ', 'Lj'], ['ǉ', 'lj'], ['Ǌ', 'NJ'], ['ǋ', 'Nj'], ['ǌ', 'nj'],
  ['ﬀ', 'ff'], ['ﬁ', 'fi'], ['ﬂ', 'fl'], ['ﬃ', 'ffi'], ['ﬄ', 'ffl'], ['ﬅ', 'ſt'], ['ﬆ', 'st'],
]);
const LIGATURE_RE = new RegExp(`[${[...LIGATURES.keys()].join('')}]`, 'g');

/** Halfwidth/fullwidth forms to their normal forms, and the ideographic space to a space. */
function buildWidthMap(): Map<string, string> {
  const map = new Map<string, string>([['\u3000', ' ']]);
  for (let cp = 0xff01; cp < 0xfff0; cp++) {
    const ch = String.fromCharCode(cp);
    const alt = ch.normalize('NFKC');
    if (alt !== ch) map.set(ch, alt);
  }
  return map;
}
const WIDTH_MAP = buildWidthMap();
const WIDTH_RE = /[\u3000\uff01-\uffef]/g;

const SINGLE_QUOTE_RE = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTE_RE = /[\u201c-\u201f]/g;
const LINE_BREAK_RE = /\r\n|[\r\u2028\u2029\u0085]/g;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Python's \d is any Unicode decimal digit.
const ANSI_RE = /\x1b\[(?:\p{Nd}|;)*[a-zA-Z]/gu;
const CONTROL_CHARS_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;

type Fixer = (text: string) => string;

/** The fixers ftfy runs after `fix_encoding`, in ftfy's order. */
const FIXERS: readonly Fixer[] = [
  fixC1Controls,
  (t) => t.replace(LIGATURE_RE, (ch) => LIGATURES.get(ch)!),
  (t) => t.replace(WIDTH_RE, (ch) => WIDTH_MAP.get(ch) ?? ch),
  (t) => t.replace(DOUBLE_QUOTE_RE, '"').replace(SINGLE_QUOTE_RE, "'"),
  (t) => t.replace(LINE_BREAK_RE, '\n'),
  (t) => t.replace(LONE_SURROGATE_RE, '\ufffd'),
  (t) => t.replace(ANSI_RE, ''),
  (t) => t.replace(CONTROL_CHARS_RE, ''),
  (t) => t.normalize('NFC'),
];

/** ftfy `fix_and_explain` on one segment: apply every fix until a fixed point. */
function fixSegment(text: string, unescapeHtml: boolean): string {
  for (;;) {
    const orig = text;
    if (unescapeHtml) text = ftfyUnescapeHtml(text);
    text = fixEncoding(text);
    for (const fix of FIXERS) text = fix(text);
    if (text === orig) return text;
  }
}

const MAX_DECODE_LENGTH = 1_000_000; // code points per segment, as ftfy

/** End (code-unit index) of the segment starting at `pos`: after the next '\n', at most 10^6 code points. */
function segmentEnd(text: string, pos: number): number {
  const nl = text.indexOf('\n', pos);
  const end = nl < 0 ? text.length : nl + 1;
  if (end - pos <= MAX_DECODE_LENGTH) return end; // code points ≤ code units
  let i = pos;
  for (let n = 0; n < MAX_DECODE_LENGTH && i < end; n++) i += (text.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
  return i;
}

// Text made only of these is left unchanged by every ftfy fixer (no '&', '\r', ESC, controls).
const FTFY_NOOP_RE = /^[\t\n\f\x20-\x25\x27-\x7e]*$/;

/** `ftfy.fix_text(text)` with ftfy's default configuration. */
export function fixText(text: string): string {
  if (FTFY_NOOP_RE.test(text)) return text;
  let out = '';
  let unescapeHtml = true;
  for (let pos = 0; pos < text.length; ) {
    const end = segmentEnd(text, pos);
    const segment = text.slice(pos, end);
    // ftfy switches HTML unescaping off for good once a segment contains '<' (it looks like HTML).
    if (segment.includes('<')) unescapeHtml = false;
    out += fixSegment(segment, unescapeHtml);
    pos = end;
  }
  return out;
}
