/**
 * End-to-end evaluation throughput: decode → preprocess → encode → score → SQLite, on generated images.
 *
 *   npm run build && node dist/scripts/bench-eval.js [--images-per-class 50] [--arch tiny|vit-b-32] [--workers 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeDemo } from '../src/fixtures/demo.js';
import { fixtureTexts, writeClipArch } from '../src/fixtures/fixture-models.js';
import type { ClipArchSize } from '../src/fixtures/clip-arch.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';

const { values } = parseArgs({
  options: {
    'images-per-class': { type: 'string', default: '50' },
    arch: { type: 'string', default: 'tiny' },
    workers: { type: 'string', default: String(Math.min(2, os.availableParallelism())) },
    'batch-size': { type: 'string', default: '32' },
  },
});

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-bench-'));
try {
  const perClass = Number(values['images-per-class']);
  const demo = await writeDemo(path.join(tmp, 'demo'), perClass);
  const arch = path.join(tmp, `clip-${values.arch}`);
  await writeClipArch(arch, values.arch as ClipArchSize, fixtureTexts(loadPromptSet('colours').templates));
  const db = openDb(path.join(tmp, 'bench.sqlite'));
  console.log(`${os.cpus().length} × ${os.cpus()[0]?.model}; ${8 * perClass} images of 160–400 px; workers ${values.workers}; batch ${values['batch-size']}`);
  for (const [label, model] of [['toy CLIP', demo.model], [`random ${values.arch}`, arch]] as const) {
    const r = await runZeroShot(db, {
      modelDir: model,
      dataset: 'imagefolder',
      root: demo.root,
      prompts: 'colours',
      batchSize: Number(values['batch-size']),
      workers: Number(values.workers),
    });
    const t = r.timings;
    console.log(
      `${label.padEnd(18)} ${(r.n / t.imageSeconds).toFixed(1).padStart(7)} images/s  (images ${t.imageSeconds.toFixed(2)} s, prompts ${t.textSeconds.toFixed(2)} s, load ${t.loadSeconds.toFixed(2)} s, top-1 ${(100 * r.top1).toFixed(1)}%)`,
    );
  }
  db.close();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
