/** The built `clip-bench` executable, run as a user runs it (needs `npm run build`, which `npm test` does first). */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDemo, type DemoPaths } from '../src/fixtures/demo.js';
import { packageRoot, referenceDir } from '../src/paths.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
let tmp: string;
let demo: DemoPaths;
let db: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmp });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-cli-'));
  demo = await writeDemo(path.join(tmp, 'demo'), 3);
  db = path.join(tmp, 'r.sqlite');
});

describe('clip-bench CLI', () => {
  it('eval --json prints one JSON object with the run identity and fractions', () => {
    const r = cli(['eval', '--model', demo.model, '--dataset', 'imagefolder', '--root', demo.root, '--prompts', 'colours', '--db', db, '--json']);
    expect(r.code).toBe(0);
    // stderr carries only progress lines (not a terminal: plain lines), never errors
    expect(r.stderr.split('\n').filter(Boolean).every((l) => /^(prompts|images): \d+\/\d+/.test(l))).toBe(true);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ runId: 1, model: 'toy-clip', dataset: 'imagefolder', n: 24, top1: 1, top5: 1 });
  });

  it('predictions --format jsonl prints one line per sample', () => {
    const r = cli(['predictions', '--run', '1', '--db', db, '--format', 'jsonl']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(24);
    expect(Object.keys(lines[0])).toEqual(['index', 'key', 'label', 'top5', 'top5_logits', 'confidence']);
    // the top-1 softmax probability over all classes: at least its share among the five stored logits' classes
    const top5Share = (l: { top5_logits: number[] }) => 1 / l.top5_logits.reduce((s, x) => s + Math.exp(x - l.top5_logits[0]), 0);
    for (const l of lines) expect(l.confidence).toBeLessThanOrEqual(top5Share(l) + 1e-12);
    expect(lines[0]).toMatchObject({ index: 0, key: 'black/0000.jpg', label: 0 });
  });

  it('report writes Markdown and CSV', () => {
    expect(cli(['report', '--db', db]).stdout).toMatch(/\| model \| imagefolder:colours \|\n\|---\|---:\|\n\| toy-clip \([0-9a-f]{8}\) \| 100\.00 \/ 100\.00 \(n=24\) \|/);
    const out = path.join(tmp, 'r.csv');
    expect(cli(['report', '--db', db, '--format', 'csv', '--out', out]).code).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('model,fingerprint,dataset,run_id,n,n_failed,top1,top5');
  });

  it.each([
    [['eval', '--model', 'nowhere', '--dataset', 'imagefolder', '--root', '.'], /^clip-bench: .*nowhere: model folder not found — pass --model/],
    [['eval', '--model', 'm', '--dataset', 'image-folder', '--root', '.'], /unknown dataset "image-folder"\. Did you mean "imagefolder"\?/],
    [['eval', '--model', 'm', '--dataset', 'imagefolder'], /Missing required argument: root/],
    [['eval', '--model', 'm', '--dataset', 'imagefolder', '--root', '.', '--batch-size', '0'], /--batch-size must be a positive integer/],
    [['report', '--db', 'missing.sqlite'], /missing\.sqlite: cannot open results database/],
    [['predictions', '--run', '42', '--db', 'r.sqlite'], /no run 42/],
    [['evaluate'], /Unknown argument: evaluate|Did you mean eval/],
  ])('%j fails with one clear line and exit code 2', (args, message) => {
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('tokenize prints ids from the model\'s own tokenizer: specials around, the colour word as its single token', () => {
    const vocab = (JSON.parse(readFileSync(path.join(demo.model, 'textual', 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
    const r = cli(['tokenize', '--model', demo.model, '--text', 'A RED square.', '--text', 'blue']);
    expect(r.code).toBe(0);
    const [a, b] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as number[]);
    expect(a).toEqual([vocab['<|startoftext|>'], vocab['a</w>'], vocab['red</w>'], vocab['square</w>'], vocab['.</w>'], vocab['<|endoftext|>']]);
    expect(b).toEqual([vocab['<|startoftext|>'], vocab['blue</w>'], vocab['<|endoftext|>']]);
  });

  it.skipIf(!existsSync(path.join(referenceDir, 'clip-bpe')))('tokenize reads stdin and matches the reference ids with the real CLIP vocabulary', () => {
    const gz = path.join(referenceDir, 'clip-bpe', 'tokens-public.jsonl.gz');
    const rows = gunzipSync(readFileSync(gz)).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string; ids: number[] });
    const sample = rows.filter((r) => !r.text.includes('\n') && !/[\r\u2028\u2029\x85\v\f]/.test(r.text)).filter((_, i) => i % 997 === 0);
    for (const file of ['bpe_simple_vocab_16e6.txt.gz', 'tokenizer.json']) {
      const r = spawnSync(process.execPath, [bin, 'tokenize', '--tokenizer', path.join(referenceDir, 'clip-bpe', file)], { input: sample.map((s) => s.text).join('\n') + '\n', encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual(sample.map((s) => s.ids));
    }
  });

  it.skipIf(!existsSync(path.join(referenceDir, 'preprocess')))('preprocess writes the reference tensor byte for byte, configured from an Immich or a Hugging Face folder', () => {
    const hf = path.join(tmp, 'hf-model');
    mkdirSync(hf, { recursive: true });
    writeFileSync(
      path.join(hf, 'preprocessor_config.json'),
      JSON.stringify({ image_processor_type: 'CLIPImageProcessor', size: { shortest_edge: 224 }, crop_size: { height: 224, width: 224 }, resample: 3, do_center_crop: true, do_convert_rgb: true, image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711] }),
    );
    for (const model of [demo.model, hf]) {
      for (const name of ['jpeg_baseline_420.jpg', 'png_crop_half_227x224.png']) {
        const out = path.join(tmp, `${path.basename(model)}-${name}.f32`);
        const r = cli(['preprocess', '--model', model, path.join(referenceDir, 'preprocess', name), '--out', out]);
        expect(r.code).toBe(0);
        expect(readFileSync(out).equals(readFileSync(path.join(referenceDir, 'preprocess', `${name}.f32`)))).toBe(true);
      }
    }
  });

  it('demo (what `npm run demo` runs): 100% on the colour set, the matrix on stdout, Markdown and HTML reports written', () => {
    const dir = path.join(tmp, 'demo-cmd');
    const [report, html, demoDb] = ['report.md', 'report.html', 'demo.sqlite'].map((f) => path.join(dir, f));
    const r = cli(['demo', '--dir', path.join(dir, 'demo'), '--db', demoDb, '--report', report, '--html', html]);
    expect(r.code).toBe(0);
    // 8 colours × 12 images, every one classified correctly by construction (see src/fixtures/toy-clip.ts)
    expect(r.stdout).toMatch(/top-1 100\.00% {3}top-5 100\.00% {3}over 96 samples/);
    expect(r.stdout).toMatch(/\| toy-clip \([0-9a-f]{8}\) \| 100\.00 \/ 100\.00 \(n=96\) \|/);
    expect(r.stdout).toContain(`reports written to ${report} and ${html}; results in ${demoDb}`);
    expect(readFileSync(report, 'utf8')).toMatch(/\| toy-clip \([0-9a-f]{8}\) \| 100\.00 \/ 100\.00 \(n=96\) \|/);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/i);
    expect(page).toContain('<svg');
  });

  it('--help explains each command with examples', () => {
    const help = execFileSync(process.execPath, [bin, 'eval', '--help'], { encoding: 'utf8' });
    expect(help).toContain('Zero-shot classify a dataset');
    expect(help).toContain('Examples:');
    expect(help).toContain('--prompts');
  });
});
