/**
 * CLIP's BPE tokenizer, token for token as OpenAI's `clip.tokenize` (simple_tokenizer.py with
 * ftfy 6.3.1 cleaning), over the vocabulary files checkpoints ship. Everything here is synchronous.
 *
 *   const tok = loadTokenizerFromDir('models/ViT-B-32__openai');
 *   tok.tokenize('a photo of a dog.');            // [49406, 320, 1125, 539, 320, 1929, 269, 49407]
 *   tok.tokenizeBatch(texts, { dtype: 'int64' }); // { data: BigInt64Array [n*77], dims: [n, 77], eotIndex }
 */
export {
  ClipTokenizer,
  DEFAULT_CONTEXT_LENGTH,
  DEFAULT_PAD_ID,
  EOT_TOKEN,
  SOT_TOKEN,
  type BatchOptions,
  type ClipTokenizerSpec,
  type TokenBatch,
  type TokenDtype,
  type TokenizeOptions,
} from './tokenizer.js';
export {
  CLIP_MERGE_COUNT,
  buildClipVocab,
  loadBpeVocabGz,
  loadTokenizerJson,
  loadVocabMerges,
  parseTokenizerJson,
  type TokenizerLoadOptions,
} from './loaders.js';
export { loadTokenizerFile, loadTokenizerFromDir, tokenizerFilesIn, tokenizerFilesOf } from './model-dir.js';
export { buildTokenizerJson, type BuildTokenizerJsonOptions, type TokenizerJson } from './tokenizer-json.js';
export type { Merge } from './bpe.js';
export { BYTE_TO_CHAR, BYTE_VOCAB_ORDER } from './byte-level.js';
export { cleanText } from './clean.js';
export { fixText } from './ftfy.js';
export { htmlUnescape } from './html-unescape.js';
export { preTokenize } from './pretokenize.js';
export { fedTokenizerFiles, loadFedTokenizer, isClipBpeJson, type FedBatch, type FedTokenizer, type FedTokenizerOptions } from './fed-tokenizer.js';
export { FLORES200_FILE, floresCode } from './languages.js';
export { TOKENIZER_FAMILIES, familyOfClass, padRow, wrapRow, type FamilyId, type FedRow, type TokenizerFamily } from './families.js';
export { HfTokenizer, LIBRARY_MODEL_TYPES, type ExactSteps } from './hf-tokenizer.js';
export { PrecompiledCharsmap } from './precompiled-charsmap.js';
export { UnigramViterbi, type UnigramPieces } from './unigram-viterbi.js';
export { CLEAN_MODES, canonicalizeText, cleanFunction, type CleanMode } from './open-clip-clean.js';
