/**
 * CLIP's pre-tokeniser: `re.findall(pat, text)` with simple_tokenizer's pattern under the `regex`
 * module and IGNORECASE, on already lowercased text:
 *   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
 * Written without JavaScript's `i` flag, whose case-folded classes differ from `regex`'s; the
 * IGNORECASE effects that survive lowercasing are spelt out instead:
 * - `s` also matches `ſ` (U+017F folds to s), in `'s` and in `<|startoftext|>`;
 * - U+0345 (combining ypogegrammeni, folds to ι) matches no alternative, so it is skipped.
 */
const SPACE = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const PRETOKEN_RE = new RegExp(
  `<\\|[sſ]tartoftext\\|>|<\\|endoftext\\|>|'[sſ]|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^${SPACE}\\p{L}\\p{N}\\u0345]+`,
  'gu',
);

/** Splits cleaned, lowercased text into the pieces that BPE encodes one by one. */
export function preTokenize(text: string): string[] {
  return text.match(PRETOKEN_RE) ?? [];
}
