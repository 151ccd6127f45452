/** CLIP image preprocessing reproducing OpenAI's PIL/torchvision transform byte for byte. */
export type { Channels, PilMode, RawImage } from './image.js';
export type { Interpolation, PreprocessConfig, PreprocessConvention, PreprocessSources, ReadOptions, SourcedPreprocess } from './config.js';
export {
  DEFAULT_MAX_PIXELS,
  OPENAI_CLIP_CONFIG,
  OPENAI_CLIP_MEAN,
  OPENAI_CLIP_STD,
  fromHfPreprocessorConfig,
  fromOpenClipPreprocessCfg,
  isSiglip2Checkpoint,
  loadManifestPreprocess,
  loadPreprocessConfigFromDir,
  loadSourcedPreprocessFromDir,
  openAiDefaultsSourced,
  filterSourceLine,
  preprocessSourceLines,
  readHfPreprocessorConfig,
  readOpenClipPreprocessCfg,
  preprocessConfigFileIn,
  makePreprocessConfig,
  validateConfig,
} from './config.js';
export type { CropPlan, CropRounding, LongSideRule, ResizeMode, Size } from './geometry.js';
export { cropOffset, planCrop, resizedSize, roundHalfEven } from './geometry.js';
export type { Coeffs, Filter, Window } from './resample.js';
export {
  bicubicKernel,
  bilinearKernel,
  nearestIndices,
  normalizeCoeffs8,
  precomputeCoeffs,
  premultiplyAlpha,
  resampleConvolution,
  resampleNearest,
  unpremultiplyAlpha,
} from './resample.js';
export { cmykToRgb, toRgb } from './convert.js';
export type { DecodeOptions } from './decode.js';
export { decodeImage, readImageFile } from './decode.js';
export { decodePnm } from './pnm.js';
export { decodeBmp } from './bmp.js';
export { decodeGif } from './gif.js';
export type { PreprocessCallOptions } from './transform.js';
export { isRawImage, normalizeToChw, preprocessImage, preprocessToRgbU8, resizeWindow, transformDecoded, trimBorder } from './transform.js';
export type { PreprocessPool, PreprocessPoolOptions } from './pool.js';
export { createPreprocessPool } from './pool.js';
