/**
 * The image transform configuration, its OpenAI CLIP defaults, and parsers for the two
 * configuration files model exports ship: open_clip / Immich `visual/preprocess_cfg.json` and
 * Hugging Face `preprocessor_config.json` (CLIPImageProcessor).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import type { CropRounding, LongSideRule, ResizeMode } from './geometry.js';
import type { Filter } from './resample.js';

export type Interpolation = Filter;

export interface PreprocessConfig {
  /** Output side: tensors are [3, size, size]. */
  size: number;
  /** Target of the resize step when it differs from the crop (HF `shortest_edge` 256 → crop 224); defaults to `size`. */
  resizeSize?: number;
  /** Per-channel RGB mean and std in [0,1] units. */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  interpolation: Interpolation;
  resizeMode: ResizeMode;
  /** Centre-crop offset rounding: torchvision's `round()` (half to even) or HF's floor. */
  cropRounding: CropRounding;
  /** RGB 0–255 used where the crop is larger than the resized image (`longest` mode); a number means grey. */
  fillColor: number | readonly [number, number, number];
  /** Rotate/flip by the EXIF Orientation tag first. The reference (PIL `Image.open`) does not. */
  applyExifOrientation: boolean;
  /**
   * Convert to RGB before resizing (Hugging Face `do_convert_rgb`), instead of resizing in the
   * source mode and converting after (torchvision/open_clip pipelines, the reference).
   */
  convertRgbFirst?: boolean;
  /** Refuse images with more pixels than this (decompression-bomb guard); PIL's error threshold by default. */
  maxPixels?: number;
  /** Pixels cut from every edge of the decoded image before anything else (ObjectNet's 2-pixel border). */
  trimBorder?: number;
  /**
   * What a byte value is multiplied by before mean/std (Hugging Face `rescale_factor`; 1 for
   * `do_rescale: false`). Absent: torch's `v / 255`, the reference.
   */
  valueScale?: number;
  /** `shortest` mode's long side: torchvision's `int(size·long/short)` (absent) or Immich's `int((long/short)·size)` */
  longSide?: LongSideRule;
  /**
   * Normalisation steps in float32: torch's `(v/255 − mean)/std` (absent) or Immich's
   * `v/255 · (1/std) − mean/std` (`transforms.py` `normalize`), which differ in the last bit.
   */
  normalization?: 'torch' | 'immich';
}

/**
 * Where each setting of a transform came from, in words: a file and key (`visual/preprocess_cfg.json
 * "interpolation"`), a processor class's default, or the OpenAI CLIP defaults when there is no config.
 * Recorded with every run and shown by `inspect`; never part of a run's identity (it does not change pixels).
 */
export interface PreprocessSources {
  size: string;
  interpolation: string;
  resizeMode: string;
  mean: string;
  std: string;
  /** whose pipeline the steps follow (crop offset rounding, RGB conversion order, normalisation) */
  pipeline: string;
  /** a warning about the filter, where ecosystems disagree on it (SigLIP2) */
  filterNote?: string;
}

/** A transform and where its settings came from. */
export interface SourcedPreprocess {
  config: PreprocessConfig;
  sources: PreprocessSources;
}

const NO_CONFIG = 'OpenAI CLIP defaults (no config)';
const REFERENCE_PIPELINE = 'reference: PIL/torchvision as OpenAI clip.py (resize in the source mode, then RGB; crop offsets round half to even; (v/255 − mean)/std)';
const EXPORTER_PIPELINE = "exporter: transformers' image processor (RGB first, floor crop offsets)";
const IMMICH_PIPELINE = 'immich: Immich ML runtime (immich_ml/models/transforms.py + clip/visual.py: RGB first, int() long side and crop offsets, v/255·(1/std) − mean/std)';

/** The filter and where it came from, with the SigLIP2 note where there is one (what `eval` prints). */
export function filterSourceLine(interpolation: string, s: PreprocessSources): string {
  return `filter ${interpolation} from ${s.interpolation}${s.filterNote ? `; ${s.filterNote}` : ''}`;
}

/** The sources in words, one line each, the filter first (what `inspect` prints). */
export function preprocessSourceLines(interpolation: string, s: PreprocessSources): string[] {
  return [
    `filter ${interpolation} from ${s.interpolation}`,
    ...(s.filterNote ? [s.filterNote] : []),
    `size from ${s.size}; resize mode from ${s.resizeMode}; mean from ${s.mean}; std from ${s.std}`,
    `pipeline ${s.pipeline}`,
  ];
}

/** The OpenAI defaults, every setting sourced to the absence of a config. */
export function openAiDefaultsSourced(): SourcedPreprocess {
  return {
    config: { ...OPENAI_CLIP_CONFIG },
    sources: { size: NO_CONFIG, interpolation: NO_CONFIG, resizeMode: NO_CONFIG, mean: NO_CONFIG, std: NO_CONFIG, pipeline: REFERENCE_PIPELINE },
  };
}

/** PIL's `Image.MAX_IMAGE_PIXELS` is 89,478,485; it raises `DecompressionBombError` above twice that. */
export const DEFAULT_MAX_PIXELS = 2 * 89_478_485;

export const OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** OpenAI `clip/clip.py` `_transform(224)`. */
export const OPENAI_CLIP_CONFIG: Readonly<PreprocessConfig> = Object.freeze({
  size: 224,
  mean: OPENAI_CLIP_MEAN,
  std: OPENAI_CLIP_STD,
  interpolation: 'bicubic',
  resizeMode: 'shortest',
  cropRounding: 'half-even',
  fillColor: 0,
  applyExifOrientation: false,
});

/** OpenAI defaults with overrides, validated. */
export function makePreprocessConfig(overrides: Partial<PreprocessConfig> = {}): PreprocessConfig {
  const cfg: PreprocessConfig = { ...OPENAI_CLIP_CONFIG, ...overrides };
  validateConfig(cfg);
  return cfg;
}

/** Throws a `UsageError` naming the first bad field. */
export function validateConfig(cfg: PreprocessConfig, file?: string): void {
  const bad = (msg: string) => new UsageError(`invalid preprocessing config: ${msg}`, { file });
  const posInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
  if (!posInt(cfg.size)) throw bad(`size must be a positive integer, got ${String(cfg.size)}`);
  if (cfg.resizeSize !== undefined && !posInt(cfg.resizeSize)) throw bad(`resizeSize must be a positive integer, got ${String(cfg.resizeSize)}`);
  const triple = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!triple(cfg.mean)) throw bad('mean must be 3 finite numbers');
  if (!triple(cfg.std) || cfg.std.some((s) => s === 0)) throw bad('std must be 3 finite non-zero numbers');
  if (!['bicubic', 'bilinear', 'nearest'].includes(cfg.interpolation)) throw bad(`interpolation must be bicubic, bilinear or nearest, got ${String(cfg.interpolation)}`);
  if (!['shortest', 'longest', 'squash'].includes(cfg.resizeMode)) throw bad(`resizeMode must be shortest, longest or squash, got ${String(cfg.resizeMode)}`);
  if (!['half-even', 'floor'].includes(cfg.cropRounding)) throw bad(`cropRounding must be half-even or floor, got ${String(cfg.cropRounding)}`);
  const fill = typeof cfg.fillColor === 'number' ? [cfg.fillColor] : cfg.fillColor;
  if (!Array.isArray(fill) || (fill.length !== 1 && fill.length !== 3) || fill.some((v) => !(Number.isInteger(v) && v >= 0 && v <= 255))) {
    throw bad('fillColor must be an integer 0-255 or three of them');
  }
  if (cfg.maxPixels !== undefined && !posInt(cfg.maxPixels)) throw bad('maxPixels must be a positive integer');
  if (cfg.trimBorder !== undefined && !(Number.isInteger(cfg.trimBorder) && cfg.trimBorder >= 0)) throw bad('trimBorder must be a non-negative integer');
  if (cfg.valueScale !== undefined && !(typeof cfg.valueScale === 'number' && Number.isFinite(cfg.valueScale) && cfg.valueScale > 0)) throw bad('valueScale must be a positive number');
  if (cfg.longSide !== undefined && !['torchvision', 'immich'].includes(cfg.longSide)) throw bad(`longSide must be torchvision or immich, got ${String(cfg.longSide)}`);
  if (cfg.normalization !== undefined && !['torch', 'immich'].includes(cfg.normalization)) throw bad(`normalization must be torch or immich, got ${String(cfg.normalization)}`);
  if (cfg.normalization === 'immich' && cfg.valueScale !== undefined) throw bad("Immich's normalisation divides by 255; it has no valueScale");
}

type Json = Record<string, unknown>;

function asObject(json: unknown, file?: string): Json {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new UsageError('preprocessing config must be a JSON object', { file });
  return json as Json;
}

function triple(v: unknown, name: string, file?: string): [number, number, number] {
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'number') return [v[0], v[0], v[0]];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')) return [v[0], v[1], v[2]];
  if (typeof v === 'number') return [v, v, v];
  throw new UsageError(`${name} must be a number or a list of 3 numbers`, { file });
}

/** `[h, w]`, `h`, or `{height, width}` / `{shortest_edge}` → a single square side. */
function squareSide(v: unknown, name: string, file?: string): number {
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.length === 2 && v[0] === v[1] && typeof v[0] === 'number') return v[0];
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Json;
    if (typeof o.height === 'number' && o.height === o.width) return o.height;
  }
  throw new UsageError(`${name} ${JSON.stringify(v)} is not a square size`, { file, fix: 'only square model inputs are supported' });
}

/** Options of the config readers: whose pipeline to follow, and the name sources give the file (default: its path). */
export interface ReadOptions {
  convention?: PreprocessConvention;
  label?: string;
}

/**
 * Keys Immich's `OpenClipVisualEncoder._load` reads with `preprocess_cfg[key]` (a KeyError without them);
 * `resize_mode` it reads with open_clip's default, `shortest`.
 */
const IMMICH_REQUIRED_KEYS = ['size', 'interpolation', 'mean', 'std'] as const;

/**
 * open_clip / Immich `visual/preprocess_cfg.json`:
 * `{size: 224 | [224,224], mean, std, interpolation: 'bicubic'|'bilinear'|'nearest', resize_mode, fill_color}`.
 * open_clip's pipelines are torchvision's, so crop rounding is half-even and conversion to RGB comes after resizing.
 * `{convention: 'immich'}` reproduces Immich's own runtime (`immich_ml/models/clip/visual.py` at commit
 * 0538dd7a, the newest stored: it honours `interpolation` and `resize_mode` squash | shortest, raises on
 * longest): RGB before resizing, `int()` long side and crop offsets, Immich's float32 normalisation.
 */
export function readOpenClipPreprocessCfg(json: unknown, file?: string, opts: ReadOptions = {}): SourcedPreprocess {
  const o = asObject(json, file);
  const where = opts.label ?? file ?? 'preprocess_cfg.json';
  const immich = opts.convention === 'immich';
  if (immich) {
    const missing = IMMICH_REQUIRED_KEYS.find((k) => o[k] === undefined);
    if (missing) throw new UsageError(`"${missing}" is missing, and Immich's runtime reads it without a default`, { file, fix: `state "${missing}" in preprocess_cfg.json, or drop --convention immich` });
  }
  const stated = (key: string, dflt: string) => (o[key] !== undefined ? `${where} "${key}"` : `${dflt} (no "${key}" in ${where})`);
  const interpolation = o.interpolation ?? 'bicubic';
  if (interpolation !== 'bicubic' && interpolation !== 'bilinear' && interpolation !== 'nearest') {
    throw new UsageError(`unsupported interpolation ${JSON.stringify(interpolation)}`, { file, fix: 'use bicubic, bilinear or nearest' });
  }
  const resizeMode = o.resize_mode ?? 'shortest';
  if (resizeMode !== 'shortest' && resizeMode !== 'longest' && resizeMode !== 'squash') {
    throw new UsageError(`unsupported resize_mode ${JSON.stringify(resizeMode)}`, { file, fix: 'use shortest, longest or squash' });
  }
  if (immich && resizeMode === 'longest') {
    throw new UsageError("Immich's runtime raises on resize_mode \"longest\" (it resizes squash or shortest only)", { file, fix: "drop --convention immich to follow open_clip's own pipeline" });
  }
  const fill = o.fill_color ?? 0;
  const sizeKey = o.size !== undefined ? 'size' : 'image_size';
  const cfg: PreprocessConfig = {
    ...OPENAI_CLIP_CONFIG,
    size: squareSide(o.size ?? o.image_size ?? 224, 'size', file),
    mean: o.mean === undefined ? OPENAI_CLIP_MEAN : triple(o.mean, 'mean', file),
    std: o.std === undefined ? OPENAI_CLIP_STD : triple(o.std, 'std', file),
    interpolation,
    resizeMode,
    fillColor: typeof fill === 'number' ? fill : triple(fill, 'fill_color', file),
    ...(immich ? { convertRgbFirst: true, cropRounding: 'floor' as const, longSide: 'immich' as const, normalization: 'immich' as const } : {}),
  };
  validateConfig(cfg, file);
  return {
    config: cfg,
    sources: {
      size: stated(sizeKey, 'open_clip default 224'),
      interpolation: stated('interpolation', 'open_clip default bicubic'),
      resizeMode: stated('resize_mode', 'open_clip default shortest'),
      mean: stated('mean', 'OpenAI CLIP mean'),
      std: stated('std', 'OpenAI CLIP std'),
      pipeline: immich ? IMMICH_PIPELINE : REFERENCE_PIPELINE,
    },
  };
}

/** `readOpenClipPreprocessCfg` without the sources. */
export function fromOpenClipPreprocessCfg(json: unknown, file?: string, opts: ReadOptions = {}): PreprocessConfig {
  return readOpenClipPreprocessCfg(json, file, opts).config;
}

/** PIL `Image.Resampling` values HF stores in `resample`. */
const PIL_RESAMPLE: Record<number, Interpolation | string> = { 0: 'nearest', 1: 'lanczos', 2: 'bilinear', 3: 'bicubic', 4: 'box', 5: 'hamming' };

/** Whose conventions to follow where an exporter's pipeline differs from the reference's. */
export type PreprocessConvention = 'reference' | 'exporter' | 'immich';

/**
 * What a transformers image processor class does, from its `__init__` defaults and `preprocess`
 * (transformers `models/clip/image_processing_clip.py`, `models/siglip/image_processing_siglip.py`):
 * CLIP resizes the shortest edge (or to height×width) and centre-crops; SigLIP resizes to height×width
 * and never crops. `resample` is transformers' default, bicubic for both; transformers.js, which reads
 * the same file beside `onnx/` exports, defaults every class to bilinear, so a config must state it.
 */
interface HfProcessorClass {
  resample: number;
  size: unknown;
  /** `false`: the class has no crop step (and no crop keys) */
  crop: { size: unknown } | false;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

const CLIP_PROCESSOR: HfProcessorClass = { resample: 3, size: { shortest_edge: 224 }, crop: { size: { height: 224, width: 224 } }, mean: OPENAI_CLIP_MEAN, std: OPENAI_CLIP_STD };
const SIGLIP_PROCESSOR: HfProcessorClass = { resample: 3, size: { height: 224, width: 224 }, crop: false, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

/** Every processor class clip-bench reproduces; a config naming another one is refused. */
const HF_PROCESSOR_CLASSES: Record<string, HfProcessorClass> = {
  CLIPImageProcessor: CLIP_PROCESSOR,
  CLIPImageProcessorFast: CLIP_PROCESSOR,
  CLIPFeatureExtractor: CLIP_PROCESSOR,
  SiglipImageProcessor: SIGLIP_PROCESSOR,
  SiglipImageProcessorFast: SIGLIP_PROCESSOR,
};

/** Keys that name things or control output containers, not pixels. */
const HF_METADATA_KEYS = new Set(['image_processor_type', 'feature_extractor_type', 'processor_class', 'auto_map', 'model_input_names', 'return_tensors', 'data_format', 'input_data_format', 'device', 'disable_grouping', '_valid_processor_keys']);
const HF_PIXEL_KEYS = ['do_resize', 'size', 'resample', 'do_rescale', 'rescale_factor', 'do_normalize', 'image_mean', 'image_std', 'do_convert_rgb'];
const HF_CROP_KEYS = ['do_center_crop', 'crop_size'];

/**
 * Hugging Face `preprocessor_config.json` for `CLIPImageProcessor` (also `CLIPFeatureExtractor`, the
 * default when no class is named) and `SiglipImageProcessor`, with each class's own defaults (but
 * `resample` must be stated: transformers and transformers.js default it differently):
 * `size` (`shortest_edge`, `{height,width}` → squash, or a bare int), `crop_size`, `do_center_crop`,
 * `resample` (PIL enum int), `do_rescale` + `rescale_factor`, `do_normalize` + `image_mean`/`image_std`,
 * `do_convert_rgb`, `do_resize`. Another class, or a key the class does not read (e.g. `crop_pct`,
 * which transformers' CLIP and SigLIP processors ignore although the exporter meant something by it),
 * is refused rather than ignored.
 * transformers crops with floor offsets and converts to RGB before resizing; the reference (PIL,
 * torchvision) rounds crop offsets half to even and resizes in the source mode. The reference is the
 * default; `{convention: 'exporter'}` reproduces transformers' own pipeline instead.
 */
export function readHfPreprocessorConfig(json: unknown, file?: string, opts: ReadOptions = {}): SourcedPreprocess {
  const o = asObject(json, file);
  const where = opts.label ?? file ?? 'preprocessor_config.json';
  if (opts.convention === 'immich') {
    throw new UsageError("--convention immich is Immich's runtime, which reads visual/preprocess_cfg.json, not a Hugging Face preprocessor_config.json", { file, fix: 'use --convention reference or exporter for this export' });
  }
  const className = o.image_processor_type ?? o.feature_extractor_type ?? 'CLIPImageProcessor';
  const cls = typeof className === 'string' && Object.hasOwn(HF_PROCESSOR_CLASSES, className) ? HF_PROCESSOR_CLASSES[className] : undefined;
  if (!cls) {
    throw new UsageError(`unsupported image processor class ${JSON.stringify(className)}`, {
      file,
      fix: `clip-bench reproduces ${Object.keys(HF_PROCESSOR_CLASSES).join(', ')}; describe the transform in a clip-bench.json manifest instead`,
    });
  }
  const readable = new Set([...HF_PIXEL_KEYS, ...(cls.crop ? HF_CROP_KEYS : [])]);
  const unread = Object.keys(o).find((k) => !readable.has(k) && !HF_METADATA_KEYS.has(k));
  if (unread !== undefined) {
    throw new UsageError(`"${unread}" is not a setting of ${String(className)}, so its meaning here is unknown`, {
      file,
      fix: unread === 'crop_pct' && cls.crop ? 'remove crop_pct and state the resize as size.shortest_edge = crop size / crop_pct' : `remove "${unread}" (transformers ignores it) or use a clip-bench.json manifest`,
    });
  }
  const flag = (key: string, dflt: boolean): boolean => {
    const v = o[key] ?? dflt;
    if (typeof v !== 'boolean') throw new UsageError(`${key} must be true or false, got ${JSON.stringify(v)}`, { file });
    return v;
  };

  const resample = o.resample;
  if (resample === undefined) {
    throw new UsageError(`"resample" is not stated: transformers' ${String(className)} defaults to ${cls.resample} (${PIL_RESAMPLE[cls.resample]}), transformers.js to 2 (bilinear)`, {
      file,
      fix: 'state "resample" (2 bilinear, 3 bicubic) in preprocessor_config.json',
    });
  }
  const interpolation = typeof resample === 'number' ? PIL_RESAMPLE[resample] : undefined;
  if (interpolation !== 'bicubic' && interpolation !== 'bilinear' && interpolation !== 'nearest') {
    throw new UsageError(`unsupported resample ${JSON.stringify(resample)}${interpolation ? ` (${interpolation})` : ''}`, {
      file,
      fix: 'supported PIL filters: 0 nearest, 2 bilinear, 3 bicubic',
    });
  }
  if (!flag('do_resize', true)) throw new UsageError('do_resize: false is not supported', { file, fix: 'model inputs need a fixed size' });

  // do_rescale: v · rescale_factor (numpy, float64); 1/255 is torch's v / 255, the reference's step.
  let valueScale: number | undefined;
  if (flag('do_rescale', true)) {
    const factor = o.rescale_factor ?? 1 / 255;
    if (typeof factor !== 'number' || !Number.isFinite(factor) || factor <= 0) throw new UsageError(`rescale_factor must be a positive number, got ${JSON.stringify(factor)}`, { file });
    if (Math.abs(factor * 255 - 1) > 1e-6) valueScale = factor;
  } else valueScale = 1;
  const doNormalize = flag('do_normalize', true);

  const rawSize = o.size ?? cls.size;
  let resizeSize: number;
  let resizeMode: ResizeMode;
  const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
  if (!cls.crop) {
    // SigLIP resizes to size["height"] × size["width"]; an int or shortest_edge raises in transformers.
    if (!isObject(rawSize) || rawSize.height === undefined) {
      throw new UsageError(`${String(className)} needs size {"height", "width"}, got ${JSON.stringify(rawSize)}`, { file, fix: 'state size as {"height": N, "width": N}' });
    }
    resizeSize = squareSide(rawSize, 'size', file);
    resizeMode = 'squash';
  } else if (typeof rawSize === 'number') {
    resizeSize = rawSize;
    resizeMode = 'shortest';
  } else if (isObject(rawSize) && typeof rawSize.shortest_edge === 'number') {
    resizeSize = rawSize.shortest_edge;
    resizeMode = 'shortest';
  } else {
    resizeSize = squareSide(rawSize, 'size', file);
    resizeMode = 'squash';
  }
  const doCrop = cls.crop ? flag('do_center_crop', true) : false;
  const stated = (key: string) => (o[key] !== undefined ? `${where} "${key}"` : `${String(className)} default (no "${key}" in ${where})`);
  const normSource = (key: string) => (!doNormalize ? `${where} "do_normalize": false` : stated(key));
  if (!doCrop && resizeMode === 'shortest') {
    throw new UsageError('do_center_crop: false with a shortest_edge resize gives non-square images', { file, fix: 'set do_center_crop to true' });
  }
  const size = doCrop && cls.crop ? squareSide(o.crop_size ?? cls.crop.size, 'crop_size', file) : resizeSize;
  const cfg: PreprocessConfig = {
    ...OPENAI_CLIP_CONFIG,
    size,
    ...(resizeSize !== size ? { resizeSize } : {}),
    mean: !doNormalize ? [0, 0, 0] : o.image_mean === undefined ? cls.mean : triple(o.image_mean, 'image_mean', file),
    std: !doNormalize ? [1, 1, 1] : o.image_std === undefined ? cls.std : triple(o.image_std, 'image_std', file),
    interpolation,
    resizeMode,
    ...(valueScale !== undefined ? { valueScale } : {}),
    ...(opts.convention === 'exporter' ? { cropRounding: 'floor' as const, convertRgbFirst: o.do_convert_rgb !== false } : {}),
  };
  validateConfig(cfg, file);
  const sizeSource = doCrop && cls.crop ? stated('crop_size') : stated('size');
  return {
    config: cfg,
    sources: {
      size: resizeSize !== size ? `${sizeSource}; resize to ${resizeSize} from ${stated('size')}` : sizeSource,
      interpolation: `${where} "resample" (PIL ${String(resample)})`,
      resizeMode: cls.crop ? stated('size') : `${String(className)} (resizes to height × width, no crop)`,
      mean: normSource('image_mean'),
      std: normSource('image_std'),
      pipeline: opts.convention === 'exporter' ? EXPORTER_PIPELINE : REFERENCE_PIPELINE,
    },
  };
}

/** `readHfPreprocessorConfig` without the sources. */
export function fromHfPreprocessorConfig(json: unknown, file?: string, opts: ReadOptions = {}): PreprocessConfig {
  return readHfPreprocessorConfig(json, file, opts).config;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read preprocessing config: ${(err as Error).message}`, { file, cause: err });
  }
}

/**
 * Which preprocessing config a model folder's transform comes from, relative to it:
 * `visual/preprocess_cfg.json` (open_clip/Immich) if present, else `preprocessor_config.json`
 * (Hugging Face), else none (the OpenAI defaults). The one place that decides it.
 */
export function preprocessConfigFileIn(dir: string): string | undefined {
  return ['visual/preprocess_cfg.json', 'preprocessor_config.json'].find((f) => existsSync(path.join(dir, f)));
}

/** `--convention immich` needs Immich's own config: its runtime fails without one. */
function refuseImmichWithoutConfig(dir: string, convention: PreprocessConvention | undefined): void {
  if (convention === 'immich') {
    throw new UsageError("--convention immich is Immich's runtime, which needs visual/preprocess_cfg.json; this model has no preprocessing config", { file: dir, fix: 'use --convention reference (OpenAI CLIP defaults)' });
  }
}

/** The transform for a config file, by its name: `preprocessor_config.json` is Hugging Face's, anything else open_clip's. */
function readConfigFile(file: string, opts: ReadOptions): SourcedPreprocess {
  const json = readJson(file);
  return path.basename(file) === 'preprocessor_config.json' ? readHfPreprocessorConfig(json, file, opts) : readOpenClipPreprocessCfg(json, file, opts);
}

/** The transform for a model folder and its sources, from the file `preprocessConfigFileIn` names. */
export function loadSourcedPreprocessFromDir(dir: string, opts: { convention?: PreprocessConvention } = {}): SourcedPreprocess {
  const rel = preprocessConfigFileIn(dir);
  if (rel === undefined) {
    refuseImmichWithoutConfig(dir, opts.convention);
    return withFilterNote(dir, openAiDefaultsSourced(), 'none');
  }
  return withFilterNote(dir, readConfigFile(path.join(dir, rel), { ...opts, label: rel }), rel === 'preprocessor_config.json' ? 'hf' : 'open_clip');
}

/**
 * Each ecosystem's filter for SigLIP2, which they disagree on: Hugging Face's `Siglip2ImageProcessor`
 * configs state bilinear (resample 2), open_clip's SigLIP2 configs (and Immich's exports of them) bicubic.
 */
const SIGLIP2_FILTERS = { hf: 'bilinear', open_clip: 'bicubic' } as const;

/** Whether `dir` holds a SigLIP2 checkpoint: HF config.json `model_type` siglip2, or an open_clip / Immich model named *SigLIP2*. */
export function isSiglip2Checkpoint(dir: string): boolean {
  if (/siglip2/i.test(path.basename(path.resolve(dir)))) return true;
  const file = path.join(dir, 'config.json');
  if (!existsSync(file)) return false;
  try {
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return cfg.model_type === 'siglip2' || [cfg.model_name, cfg.name, cfg.model].some((v) => typeof v === 'string' && /siglip2/i.test(v));
  } catch {
    return false; // an unreadable config.json is reported by whoever needs it
  }
}

/** `sourced` with a SigLIP2 filter note: which filter is used, from where, and what the other ecosystem uses. */
export function withFilterNote(dir: string, sourced: SourcedPreprocess, ecosystem: 'hf' | 'open_clip' | 'none'): SourcedPreprocess {
  if (!isSiglip2Checkpoint(dir)) return sourced;
  const used = `${sourced.config.interpolation} from ${sourced.sources.interpolation}`;
  const other =
    ecosystem === 'hf'
      ? `open_clip and Immich exports of SigLIP2 use ${SIGLIP2_FILTERS.open_clip}`
      : ecosystem === 'open_clip'
        ? `Hugging Face SigLIP2 exports use ${SIGLIP2_FILTERS.hf}`
        : `Hugging Face SigLIP2 exports use ${SIGLIP2_FILTERS.hf}, open_clip and Immich ones ${SIGLIP2_FILTERS.open_clip}; give the export's own config`;
  return { ...sourced, sources: { ...sourced.sources, filterNote: `SigLIP2: ${used}; the ecosystems disagree: ${other}` } };
}

/** The transform for a model folder, from the file `preprocessConfigFileIn` names. */
export function loadPreprocessConfigFromDir(dir: string, opts: { convention?: PreprocessConvention } = {}): PreprocessConfig {
  return loadSourcedPreprocessFromDir(dir, opts).config;
}

/**
 * The transform a clip-bench.json manifest names in `"preprocess"`: absent (the folder's own config),
 * an inline open_clip config, or the path of a config file.
 */
export function loadManifestPreprocess(dir: string, preprocess: unknown, convention: PreprocessConvention): SourcedPreprocess {
  if (preprocess === undefined) return loadSourcedPreprocessFromDir(dir, { convention });
  if (typeof preprocess === 'object') return withFilterNote(dir, readOpenClipPreprocessCfg(preprocess, path.join(dir, 'clip-bench.json'), { convention, label: 'clip-bench.json "preprocess"' }), 'open_clip');
  const file = path.join(dir, String(preprocess));
  try {
    return withFilterNote(dir, readConfigFile(file, { convention, label: String(preprocess) }), path.basename(file) === 'preprocessor_config.json' ? 'hf' : 'open_clip');
  } catch (err) {
    if (err instanceof UsageError && err.message.startsWith('cannot read preprocessing config')) {
      throw new UsageError(`cannot read the preprocessing config: ${(err.cause as Error | undefined)?.message ?? err.message}`, { file, fix: 'fix "preprocess" in clip-bench.json', cause: err });
    }
    throw err;
  }
}
