import type { Argv } from 'yargs';
import { runBench } from '../eval/bench.js';
import { OPTIONS } from './options.js';

export const benchCommand = {
  command: 'bench',
  describe: "Measure a model on this machine: the image encoder's raw limit, end-to-end eval throughput and its ratio to the limit, text encoding at full and truncated length, and a cached re-score.",
  builder: (y: Argv) =>
    y
      .options({
        model: { ...OPTIONS.model, demandOption: true },
        variant: OPTIONS.variant,
        'batch-size': OPTIONS['batch-size'],
        workers: OPTIONS.workers,
        threads: OPTIONS.threads,
        images: { type: 'number', default: 200, describe: 'Generated 500×375 JPEGs for the end-to-end measurement.' },
        prompts: { type: 'number', default: 256, describe: 'ImageNet prompts for the full-length and cut-per-batch text measurements.' },
        'bucketed-prompts': { type: 'number', default: 4096, describe: "ImageNet prompts for the length-bucketed text measurements, as eval encodes them (80000: all of them; a shorter list's buckets are coarser)." },
        'rescore-samples': { type: 'number', default: 50000, describe: 'Samples in the cached re-score measurement.' },
        'rescore-classes': { type: 'number', default: 1000, describe: 'Classes in the cached re-score measurement.' },
        json: OPTIONS.json,
      })
      .example('$0 bench --model fixtures/clip-vit-b-32', 'The random-weight ViT-B/32 fixture (npm run fixtures -- --arch vit-b-32).'),
  handler: async (a: { model: string; variant?: string; 'batch-size': number; workers: number; threads: number; images: number; prompts: number; 'bucketed-prompts': number; 'rescore-samples': number; 'rescore-classes': number; json: boolean }) => {
    const r = await runBench({
      modelDir: a.model,
      variant: a.variant,
      batchSize: a['batch-size'],
      workers: a.workers,
      threads: a.threads,
      images: a.images,
      prompts: a.prompts,
      bucketedPrompts: a['bucketed-prompts'],
      rescoreSamples: a['rescore-samples'],
      rescoreClasses: a['rescore-classes'],
      log: a.json ? undefined : (l) => process.stdout.write(l + '\n'),
    });
    if (a.json) process.stdout.write(JSON.stringify(r) + '\n');
  },
};
