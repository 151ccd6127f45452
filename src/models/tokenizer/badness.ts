/**
 * ftfy 6.3.1's mojibake detector (`ftfy.badness.is_bad`): unlikely juxtapositions of the few hundred
 * characters that UTF-8 mojibake is made of. Ported alternative by alternative from BADNESS_RE.
 */
import tables from './ftfy-tables.json' with { type: 'json' };

const c = tables.mojibakeCategories as Record<string, string>;
const bad = c.bad;
const la = c.lower_accented;
const ua = c.upper_accented;
const box = c.box;
const sp = c.start_punctuation;
const ep = c.end_punctuation;
const cur = c.currency;
const num = c.numeric;
const law = c.law;
const lc = c.lower_common;
const uc = c.upper_common;
const c1 = c.c1;
const common = c.common;
const kao = c.kaomoji;

/** Python `re`'s `\s` for str patterns (str.isspace): Unicode White_Space plus \x1c-\x1f. */
export const PY_ISSPACE_CLASS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Python `re`'s `\w` for str patterns: letters, numbers and underscore. */
const PY_WORD_CLASS = '\\p{L}\\p{N}_';

const ALTERNATIVES = [
  `[${c1}]`,
  `[${bad}${la}${ua}${box}${sp}${ep}${cur}${num}${law}][${bad}]`,
  `[a-zA-Z][${lc}${uc}][${bad}]`,
  `[${bad}][${la}${ua}${box}${sp}${ep}${cur}${num}${law}]`,
  `[${la}${lc}${box}${ep}${cur}${num}][${ua}]`,
  `[${box}${ep}${cur}${num}][${la}]`,
  `[${la}${box}${ep}][${cur}]`,
  `[${PY_ISSPACE_CLASS}][${ua}][${cur}]`,
  `[${ua}${box}][${num}${law}]`,
  `[${la}${ua}${box}${cur}${ep}][${sp}][${num}]`,
  `[${la}${ua}${cur}${num}${box}${law}][${ep}][${sp}]`,
  `[${cur}${num}${box}][${sp}]`,
  `[a-z][${ua}][${sp}${cur}]`,
  `[${box}][${kao}]`,
  `[${la}${ua}${cur}${num}${sp}${ep}${law}][${box}]`,
  `[${box}][${ep}]`,
  `[${la}${ua}][${sp}${ep}][${PY_WORD_CLASS}]`,
  // the ligature œ when not followed by an unaccented Latin letter
  `[Œœ][^A-Za-z]`,
  // degree signs after capital letters
  `[${ua}]°`,
  // common Windows-1252 2-character mojibake that isn't covered by the cases above
  `[ÂÃÎÐ][€œŠš¢£Ÿž\\xa0\\xad®©°·»${sp}${ep}–—´]`,
  `×[²³]`,
  // Windows-1252 mojibake of Arabic words: four characters, because 'common' ones are included
  `[ØÙ][${common}${cur}${bad}${num}${sp}ŸŠ®°µ»][ØÙ][${common}${cur}${bad}${num}${sp}ŸŠ®°µ»]`,
  // Windows-1252 mojibake starting 3-character sequences of some South Asian alphabets
  `à[²µ¹¼½¾]`,
  // MacRoman mojibake that isn't covered by the cases above
  `√[±∂†≠®™´≤≥¥µø]`,
  `≈[°¢]`,
  `‚Ä[ìîïòôúùû†°¢π]`,
  `‚[âó][àä°ê]`,
  // Windows-1251 mojibake of characters in the U+2000 range
  `вЂ`,
  // Windows-1251 mojibake of Latin-1 characters and/or the Cyrillic alphabet
  `[ВГРС][${c1}${bad}${sp}${ep}${cur}°µ][ВГРС]`,
  // Windows-1251 on top of Latin-1 mojibake of Windows-1252 characters ('.' is "not a newline")
  `ГўВЂВ[^\\n][A-Za-z ]`,
  // Windows-1252 encodings of 'à' and 'á', as well as \xa0 itself
  `Ã[\\xa0¡]`,
  `[a-z][${PY_ISSPACE_CLASS}]?[ÃÂ][ ]`,
  `^[ÃÂ][ ]`,
  // Â standing before the very character it encodes
  `[a-z.,?!${ep}]Â[ ${sp}${ep}]`,
  // Windows-1253 mojibake of characters in the U+2000 range
  `β€[™\\xa0Ά\\xad®°]`,
  // Windows-1253 mojibake of Latin-1 characters and/or the Greek alphabet
  `[ΒΓΞΟ][${c1}${bad}${sp}${ep}${cur}°][ΒΓΞΟ]`,
  // Windows-1257 mojibake of characters in the U+2000 range
  `ā€`,
];

const BADNESS_RE = new RegExp(ALTERNATIVES.join('|'), 'u');

/** ftfy `is_bad`: does `text` contain at least one sequence that looks like mojibake? */
export function isBad(text: string): boolean {
  return BADNESS_RE.test(text);
}
