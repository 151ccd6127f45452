import path from 'node:path';
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { loadPreprocessConfigFromDir, OPENAI_CLIP_CONFIG, preprocessImage, type PreprocessConfig, type PreprocessConvention } from '../models/preprocess/index.js';
import { OPTIONS } from './options.js';
import { writeAtomic } from './output.js';

export interface PreprocessArgs {
  images: string[];
  model?: string;
  out?: string;
  'out-dir'?: string;
  convention: PreprocessConvention;
  'apply-exif': boolean;
  json: boolean;
}

/**
 * Where each image's tensor goes: `--out FILE` for one image, else `OUT_DIR/<file name>.f32`. Pure; throws
 * a `UsageError` for a bad combination or two images with one file name (one would overwrite the other).
 * @example outputPaths({ images: ['a/x.jpg', 'b/y.png'], 'out-dir': 'out' }) // → ['out/x.jpg.f32', 'out/y.png.f32']
 */
export function outputPaths(a: Pick<PreprocessArgs, 'images' | 'out' | 'out-dir'>): string[] {
  const fix = 'pass --out FILE with one image, or --out-dir DIR with any number';
  if (a.images.length === 0) throw new UsageError('no image given', { fix });
  if ((a.out === undefined) === (a['out-dir'] === undefined)) throw new UsageError(a.out === undefined ? 'say where to write: --out or --out-dir' : '--out and --out-dir exclude each other', { fix });
  if (a.out !== undefined) {
    if (a.images.length > 1) throw new UsageError(`--out names one file but ${a.images.length} images were given`, { fix });
    return [a.out];
  }
  const outs = a.images.map((image) => path.join(a['out-dir']!, `${path.basename(image)}.f32`));
  const seen = new Map<string, string>();
  for (const [i, out] of outs.entries()) {
    const other = seen.get(out);
    if (other !== undefined) throw new UsageError(`${other} and ${a.images[i]} would both be written to ${out}`, { fix: 'preprocess them into different --out-dir folders' });
    seen.set(out, a.images[i]);
  }
  return outs;
}

async function preprocessOne(image: string, out: string, cfg: PreprocessConfig) {
  const t = await preprocessImage(image, cfg);
  writeAtomic(out, new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  let sum = 0;
  for (const v of t) sum += v;
  return { image, out, shape: [3, cfg.size, cfg.size], mean: sum / t.length, interpolation: cfg.interpolation, resizeMode: cfg.resizeMode };
}

export const preprocessCommand = {
  command: 'preprocess <images..>',
  describe: "Write each image's model input as a float32 CHW tensor (little-endian, no header), preprocessed as the model's config says.",
  builder: (y: Argv) =>
    y
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'Image files (JPEG, PNG, WebP, GIF, TIFF, PPM/PGM, BMP).' })
      .options({
        model: { type: 'string', describe: 'Model folder whose visual/preprocess_cfg.json or preprocessor_config.json sets the transform; without it, OpenAI CLIP\'s 224 px defaults.' },
        out: { type: 'string', describe: 'Output file for the [3, size, size] float32 tensor of a single image.' },
        'out-dir': { type: 'string', describe: 'Folder that receives <image file name>.f32 for each image (created if missing).' },
        convention: OPTIONS.convention,
        'apply-exif': { type: 'boolean', default: false, describe: 'Rotate by the EXIF orientation first (the reference pipeline ignores it).' },
        json: { type: 'boolean', default: false, describe: 'Print one JSON line per image: its shape and statistics, or its error.' },
      })
      .example('$0 preprocess --model fixtures/demo/toy-clip photo.jpg --out photo.f32', 'The exact tensor the demo model sees.')
      .example('$0 preprocess --model DIR --out-dir tensors *.jpg', 'Many images: tensors/<name>.f32 each; a bad image is reported and the rest go on.'),
  handler: async (a: PreprocessArgs) => {
    const outs = outputPaths(a);
    const cfg = { ...(a.model ? loadPreprocessConfigFromDir(a.model, { convention: a.convention }) : OPENAI_CLIP_CONFIG), applyExifOrientation: a['apply-exif'] };
    let failed = 0;
    for (const [i, image] of a.images.entries()) {
      try {
        const info = await preprocessOne(image, outs[i], cfg);
        process.stdout.write(a.json ? JSON.stringify(info) + '\n' : `wrote ${info.out}: float32 [3, ${cfg.size}, ${cfg.size}] (${cfg.interpolation}, ${cfg.resizeMode}), mean ${info.mean.toFixed(4)}\n`);
      } catch (err) {
        if (!(err instanceof UsageError) || a.images.length === 1) throw err; // one image: its error is the command's
        failed++;
        process.stderr.write(`clip-bench: ${err.oneLine()}\n`);
        if (a.json) process.stdout.write(JSON.stringify({ image, error: err.oneLine() }) + '\n');
      }
    }
    if (failed) throw new UsageError(failed === a.images.length ? `all ${failed} images failed` : `${failed} of ${a.images.length} images failed; the others were written`, { fix: 'each failure is named above' });
  },
};
