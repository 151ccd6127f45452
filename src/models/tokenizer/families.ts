/**
 * How each text-tower family is fed: which special tokens wrap the content, the context length and
 * the padding, as the models were trained. One table; the special tokens' spellings and ids come
 * from the checkpoint's own files (see fed-tokenizer.ts), never from here.
 */

/** A special token named by its role in tokenizer_config.json / special_tokens_map.json. */
export type SpecialRole = 'bos_token' | 'eos_token';

/** A tokenizer class's own cleaning, with and without lower-casing. */
export interface ClassClean {
  clean: 'transformers_siglip';
  cased: 'transformers_siglip_cased';
  lowercaseKey: string;
}

export interface TokenizerFamily {
  /** `tokenizer_class` values of tokenizer_config.json (without "Fast") that mean this family */
  tokenizerClasses: readonly string[];
  /** what comes before the content: a special token, the FLORES-200 language code, or nothing */
  prefix: SpecialRole | 'language' | null;
  /** what follows the content (kept when the content is cut) */
  suffix: SpecialRole;
  /** context length when no open_clip `text_cfg.context_length` says otherwise */
  contextLength: number;
  /**
   * whether tokenizer_config.json's `model_max_length` is the context length (SigLIP: 64) or only
   * the encoder's limit (XLM-R / NLLB: 512, while their CLIP towers use 77)
   */
  modelMaxLengthIsContext: boolean;
  /**
   * the cleaning transformers' slow tokenizer of a class applies itself (used when no open_clip
   * config names one); `lowercaseKey` is the tokenizer_config.json flag that turns lower-casing off
   */
  classClean?: Readonly<Record<string, ClassClean>>;
  /** where the rule comes from */
  source: string;
}

export const TOKENIZER_FAMILIES = {
  siglip: {
    tokenizerClasses: ['T5Tokenizer', 'SiglipTokenizer'],
    prefix: null,
    suffix: 'eos_token',
    contextLength: 64,
    modelMaxLengthIsContext: true,
    classClean: { SiglipTokenizer: { clean: 'transformers_siglip', cased: 'transformers_siglip_cased', lowercaseKey: 'do_lower_case' } },
    source: 'transformers tokenization_siglip.py (X </s>, model_max_length 64, canonicalize_text, do_lower_case True); open_clip SigLipTokenizer (padding max_length 64, pad = eos = 1)',
  },
  'siglip2-gemma': {
    tokenizerClasses: ['GemmaTokenizer'],
    prefix: null,
    suffix: 'eos_token',
    contextLength: 64,
    modelMaxLengthIsContext: false,
    source: 'open_clip SigLipTokenizer for Gemma vocabularies (add_bos_token False, add_eos_token True, pad 0, max_length 64)',
  },
  xlmr: {
    tokenizerClasses: ['XLMRobertaTokenizer'],
    prefix: 'bos_token',
    suffix: 'eos_token',
    contextLength: 77,
    modelMaxLengthIsContext: false,
    source: 'transformers tokenization_xlm_roberta.py (<s> X </s>); open_clip HFTokenizer (padding max_length, truncation, context 77)',
  },
  nllb: {
    tokenizerClasses: ['NllbTokenizer'],
    prefix: 'language',
    suffix: 'eos_token',
    contextLength: 77,
    modelMaxLengthIsContext: false,
    source: 'transformers NllbConverter template <lang_code> $A </s>; open_clip HFTokenizer set_language',
  },
} as const satisfies Record<string, TokenizerFamily>;

export type FamilyId = keyof typeof TOKENIZER_FAMILIES | 'clip';

/** The family whose tokenizer_class this is (`XLMRobertaTokenizerFast` → xlmr), or undefined. */
export function familyOfClass(tokenizerClass: string): keyof typeof TOKENIZER_FAMILIES | undefined {
  const name = tokenizerClass.replace(/Fast$/, '');
  return (Object.keys(TOKENIZER_FAMILIES) as (keyof typeof TOKENIZER_FAMILIES)[]).find((id) => (TOKENIZER_FAMILIES[id].tokenizerClasses as readonly string[]).includes(name));
}

/** A content row wrapped, cut and padded by a family's rule: what the text model is fed. */
export interface FedRow {
  ids: number[];
  attention_mask: number[];
}

/**
 * `[prefix?] content[:room] suffix`, padded with `padId` to `contextLength`; the mask is 1 for
 * everything but the padding.
 */
export function wrapRow(content: readonly number[], prefixId: number | null, suffixId: number, padId: number, contextLength: number): FedRow {
  const room = contextLength - 1 - (prefixId === null ? 0 : 1);
  const ids = [...(prefixId === null ? [] : [prefixId]), ...content.slice(0, Math.max(0, room)), suffixId];
  return padRow(ids, padId, contextLength);
}

/** `ids` padded with `padId` to `contextLength`, with its attention mask. */
export function padRow(ids: readonly number[], padId: number, contextLength: number): FedRow {
  const n = ids.length;
  return {
    ids: [...ids, ...new Array<number>(Math.max(0, contextLength - n)).fill(padId)],
    attention_mask: [...new Array<number>(n).fill(1), ...new Array<number>(Math.max(0, contextLength - n)).fill(0)],
  };
}
