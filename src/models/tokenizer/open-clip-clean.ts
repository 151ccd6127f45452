/**
 * open_clip's text cleaning (`tokenizer.py` `get_clean_fn`), chosen by `tokenizer_kwargs.clean` in
 * an open_clip model config, and transformers' slow `SiglipTokenizer` cleaning (`transformers_siglip`).
 * The tokenizer files do not do this: a SigLIP prompt that skips it gets other ids (case, punctuation).
 */
import { UsageError } from '../../errors.js';
import { basicClean, pyStrip } from './clean.js';

export const CLEAN_MODES = ['none', 'whitespace', 'lower', 'canonicalize', 'whitespace_underscore', 'transformers_siglip', 'transformers_siglip_cased'] as const;
export type CleanMode = (typeof CLEAN_MODES)[number];
/** The modes an open_clip config may name. */
const OPEN_CLIP_MODES: readonly string[] = ['whitespace', 'lower', 'canonicalize', 'whitespace_underscore'];

// Python str.split() with no argument: runs of str.isspace() characters.
const PY_WHITESPACE_RUN = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;
// string.punctuation
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** open_clip `whitespace_clean`: `" ".join(text.split()).strip()`. */
const whitespaceClean = (text: string) => pyStrip(text.split(PY_WHITESPACE_RUN).filter((w) => w !== '').join(' '));

/** open_clip / big_vision `canonicalize_text`: `_` → space, ASCII punctuation removed, lower-cased, whitespace collapsed. */
export function canonicalizeText(text: string): string {
  return whitespaceClean(text.replaceAll('_', ' ').replace(ASCII_PUNCTUATION, '').toLowerCase());
}

/**
 * transformers `SiglipTokenizer`: lower-cased when `do_lower_case` (its default), then
 * `canonicalize_text` (string.punctuation removed, `\s+` → space, strip); no ftfy, no `_` → space.
 */
const transformersSiglip = (t: string) => pyStrip(t.replace(ASCII_PUNCTUATION, '').replace(PY_WHITESPACE_RUN, ' '));

const CLEANERS: Record<CleanMode, (text: string) => string> = {
  none: (t) => t,
  whitespace: (t) => whitespaceClean(basicClean(t)),
  lower: (t) => whitespaceClean(basicClean(t)).toLowerCase(),
  canonicalize: (t) => canonicalizeText(basicClean(t)),
  whitespace_underscore: (t) => whitespaceClean(basicClean(t).replaceAll('_', ' ')),
  transformers_siglip: (t) => transformersSiglip(t.toLowerCase()),
  transformers_siglip_cased: transformersSiglip,
};

/** The cleaning function of a mode; `file` names the config in the error for an unknown one. */
export function cleanFunction(mode: string, file?: string): (text: string) => string {
  if (!OPEN_CLIP_MODES.includes(mode) && mode !== 'none' && !mode.startsWith('transformers_')) {
    throw new UsageError(`tokenizer_kwargs.clean is ${JSON.stringify(mode)}, which open_clip does not define`, { file, fix: `use one of ${OPEN_CLIP_MODES.join(', ')}` });
  }
  return CLEANERS[mode as CleanMode];
}
