/**
 * The engine benchmark on a generated random-weight CLIP (default: ViT-B/32's real dimensions, in the
 * Hugging Face layout so the text graph has a dynamic sequence axis). Writes the model once into
 * fixtures/ (≈600 MB for vit-b-32) and reuses it.
 *
 *   npm run build && node dist/scripts/bench-engine.js [--arch tiny|vit-b-32] [--images 200] [--workers 2]
 *     [--threads 0] [--spinning on|off] [--inference-worker on|off] [--only raw,e2e,text,rescore,startup] [--prompts 256] [--bucketed-prompts 4096|80000] [--tokenizer FILE] [--json]
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClipArchSize } from '../src/fixtures/clip-arch.js';
import { fixtureTexts, writeClipArch } from '../src/fixtures/fixture-models.js';
import { runBench, type BenchPart } from '../src/eval/bench.js';
import { judgeTargets, targetsTable } from '../src/eval/bench-targets.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { scriptArgs } from './args.js';

const USAGE = `
npm run build && node dist/scripts/bench-engine.js [--arch tiny|vit-b-32] [--images 200] [--workers 2]
    [--threads 0] [--spinning on|off] [--inference-worker on|off] [--only raw,e2e,text,rescore,startup] [--prompts 256] [--bucketed-prompts 4096|80000] [--tokenizer FILE] [--json]
`;
const values = scriptArgs('bench-engine', USAGE, {
  arch: { type: 'string', default: 'vit-b-32' },
  images: { type: 'string', default: '200' },
  workers: { type: 'string', default: String(Math.min(2, os.availableParallelism())) },
  'batch-size': { type: 'string', default: '32' },
  threads: { type: 'string', default: '0' },
  spinning: { type: 'string' },
  'inference-worker': { type: 'string' },
  only: { type: 'string' },
  prompts: { type: 'string', default: '256' },
  'bucketed-prompts': { type: 'string', default: '4096' },
  tokenizer: { type: 'string' },
  json: { type: 'boolean', default: false },
});
const onOff = (v: string | undefined) => (v === undefined ? undefined : v === 'on');
const arch = values.arch as ClipArchSize;
const dir = path.join('fixtures', `clip-${arch}-hf`);
if (!existsSync(dir)) {
  const t0 = performance.now();
  await writeClipArch(dir, arch, fixtureTexts(loadPromptSet('colours').templates), { layout: 'hf-split' });
  console.log(`wrote ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
console.log(`${os.cpus().length} × ${os.cpus()[0]?.model}; node ${process.version}; model ${dir}`);
const result = await runBench({
  modelDir: dir,
  batchSize: Number(values['batch-size']),
  workers: Number(values.workers),
  threads: Number(values.threads),
  spinning: onOff(values.spinning),
  inferenceWorker: onOff(values['inference-worker']),
  parts: values.only?.split(',') as BenchPart[] | undefined,
  images: Number(values.images),
  prompts: Number(values.prompts),
  bucketedPrompts: Number(values['bucketed-prompts']),
  tokenizer: values.tokenizer,
  rescoreSamples: 50_000,
  rescoreClasses: 1000,
  log: (l) => console.log(l),
});
const targets = judgeTargets(result, { arch, images: Number(values.images) });
console.log(`\ntargets (configs/bench/targets.json; this run: ${arch}, ${values.images} images):\n${targetsTable(targets)}`);
if (values.json) console.log(JSON.stringify({ ...result, targets: targets.map((t) => ({ id: t.target.id, value: t.value, goal: t.target.goal, verdict: t.verdict })) }));
