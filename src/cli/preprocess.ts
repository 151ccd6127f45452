import type { Argv } from 'yargs';
import { loadPreprocessConfigFromDir, OPENAI_CLIP_CONFIG, preprocessImage, type PreprocessConvention } from '../models/preprocess/index.js';
import { OPTIONS } from './options.js';
import { writeAtomic } from './output.js';

export const preprocessCommand = {
  command: 'preprocess <image>',
  describe: "Write an image's model input as a float32 CHW tensor (little-endian, no header), preprocessed as the model's config says.",
  builder: (y: Argv) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'Image file (JPEG, PNG, WebP, GIF, TIFF, PPM/PGM, BMP).' })
      .options({
        model: { type: 'string', describe: 'Model folder whose visual/preprocess_cfg.json or preprocessor_config.json sets the transform; without it, OpenAI CLIP\'s 224 px defaults.' },
        out: { type: 'string', demandOption: true, describe: 'Output file for the [3, size, size] float32 tensor.' },
        convention: OPTIONS.convention,
        'apply-exif': { type: 'boolean', default: false, describe: 'Rotate by the EXIF orientation first (the reference pipeline ignores it).' },
        json: { type: 'boolean', default: false, describe: 'Print the tensor\'s shape and statistics as JSON.' },
      })
      .example('$0 preprocess --model fixtures/demo/toy-clip photo.jpg --out photo.f32', 'The exact tensor the demo model sees.'),
  handler: async (a: { image: string; model?: string; out: string; convention: PreprocessConvention; 'apply-exif': boolean; json: boolean }) => {
    const cfg = { ...(a.model ? loadPreprocessConfigFromDir(a.model, { convention: a.convention }) : OPENAI_CLIP_CONFIG), applyExifOrientation: a['apply-exif'] };
    const t = await preprocessImage(a.image, cfg);
    writeAtomic(a.out, new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
    let sum = 0;
    for (const v of t) sum += v;
    const info = { image: a.image, out: a.out, shape: [3, cfg.size, cfg.size], mean: sum / t.length, interpolation: cfg.interpolation, resizeMode: cfg.resizeMode };
    process.stdout.write(a.json ? JSON.stringify(info) + '\n' : `wrote ${a.out}: float32 [3, ${cfg.size}, ${cfg.size}] (${cfg.interpolation}, ${cfg.resizeMode}), mean ${info.mean.toFixed(4)}\n`);
  },
};
