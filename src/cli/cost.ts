import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { measureCost } from '../eval/cost.js';
import { detectLayout } from '../models/layout.js';
import type { CostRecord } from '../store/cost.js';
import { putCost } from '../store/cost.js';
import { openDb } from '../store/db.js';
import { OPTIONS } from './options.js';

/** The stored record as a person reads it. */
export function costLines(r: CostRecord, dbFile: string): string[] {
  const flops = (f: number | null) => (f === null ? 'unknown' : `${(f / 1e9).toFixed(3)} GFLOP`);
  return [
    `${r.modelName} (${r.variant}, ${r.executionProvider}) on ${r.machine}`,
    `  image encoder  ${r.imagesPerSecond.toFixed(1)} images/s at batch ${r.batchSize}; ${r.latencyMs.toFixed(1)} ms per image at batch 1`,
    `  text encoder   ${r.promptsPerSecond.toFixed(0)} prompts/s`,
    `  peak RSS       ${r.peakRssMiB.toFixed(0)} MiB (an eval of ${String(r.settings.images)} generated JPEGs)`,
    `  on disk        ${(r.sizeBytes / 2 ** 20).toFixed(1)} MiB; ${(r.parameters / 1e6).toFixed(2)} M parameters (floating-point initializers)`,
    `  FLOPs          ${flops(r.imageFlops)} per image, ${flops(r.textFlops)} per prompt (MatMul/Gemm/Conv)${r.flopsNote ? ` — ${r.flopsNote}` : ''}`,
    `stored in ${dbFile} for fingerprint ${r.fingerprint.slice(0, 12)}; \`clip-bench report\` puts it beside accuracy`,
  ];
}

export const costCommand = {
  command: 'cost',
  describe:
    "Measure what a model costs on this machine and store it with the model's fingerprint: image throughput at the eval batch size, latency per image at batch 1, text prompts per second, peak RSS of an eval, size on disk, parameters and FLOPs per image. `report` plots accuracy against it.",
  builder: (y: Argv) =>
    y
      .options({
        model: { ...OPTIONS.model, demandOption: true },
        variant: OPTIONS.variant,
        db: OPTIONS.db,
        'batch-size': OPTIONS['batch-size'],
        workers: OPTIONS.workers,
        threads: OPTIONS.threads,
        provider: OPTIONS.provider,
        images: { type: 'number', default: 200, describe: 'Generated 500×375 JPEGs for the eval whose peak memory is measured.' },
        prompts: { type: 'number', default: 256, describe: 'ImageNet prompts for the text rate.' },
        seconds: { type: 'number', default: 5, describe: 'Seconds for each of the throughput and the batch-1 latency measurements.' },
        json: OPTIONS.json,
      })
      .check((a) => {
        for (const k of ['images', 'prompts', 'batch-size'] as const) if (!(Number.isInteger(a[k]) && (a[k] as number) >= 1)) throw new UsageError(`--${k} must be a whole number ≥ 1, got ${a[k]}`, { fix: `pass --${k} 1 or more` });
        if (!(a.seconds > 0)) throw new UsageError(`--seconds must be > 0, got ${a.seconds}`, { fix: 'pass --seconds 5 (the default) or another positive number' });
        return true;
      })
      .example('$0 cost --model ~/.cache/immich/clip/ViT-B-32__openai', 'Measure once per machine; run it on an idle machine.'),
  handler: async (a: { model: string; variant?: string; db: string; 'batch-size': number; workers: number; threads: number; provider: 'cpu' | 'cuda'; images: number; prompts: number; seconds: number; json: boolean }) => {
    detectLayout(a.model, a.variant); // a folder that is not a model fails before any DB is made
    openDb(a.db).close(); // a DB that cannot be written fails before minutes of measuring
    const r = await measureCost({
      modelDir: a.model,
      variant: a.variant,
      session: { intraOpThreads: a.threads, executionProvider: a.provider },
      batchSize: a['batch-size'],
      workers: a.workers,
      images: a.images,
      prompts: a.prompts,
      seconds: a.seconds,
      log: a.json ? undefined : (l) => process.stderr.write(l + '\n'),
    });
    const db = openDb(a.db);
    try {
      putCost(db, r);
    } finally {
      db.close();
    }
    process.stdout.write(a.json ? JSON.stringify(r) + '\n' : costLines(r, a.db).join('\n') + '\n');
  },
};
