/**
 * `clip-bench suite` with many models, end to end: three fixture models (the toy CLIP in an Immich cache
 * folder named ViT-B-32__openai, and two random-weight CLIPs whose accuracies are neither 0 nor 100) × two
 * colour datasets. Every number is checked against a single `eval` of that pair in a DB of its own.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeColourDataset } from '../src/fixtures/colour-dataset.js';
import { fixtureTexts, writeClipArch, writeToyClip } from '../src/fixtures/fixture-models.js';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { listRuns } from '../src/store/runs.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-suite-models-'));
const cache = path.join(dir, 'model-cache');
const dataRoot = path.join(dir, 'data');
const suiteFile = path.join(dir, 'two-colours.json');
const modelDirs = { 'ViT-B-32__openai': path.join(cache, 'clip', 'ViT-B-32__openai'), 'tiny-a': path.join(cache, 'clip', 'tiny-a'), 'tiny-b': path.join(cache, 'clip', 'tiny-b') };
const broken = path.join(dir, 'broken');
const datasets = { 'colours-a': path.join(dataRoot, 'colours'), 'colours-b': path.join(dataRoot, 'colours2') };

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const suiteArgs = (db: string, ...more: string[]) => ['suite', '--suite', suiteFile, '--data-root', dataRoot, '--db', db, '--workers', '1', ...more];

function storedRuns(db: string) {
  const d = openDb(db, { readonly: true });
  try {
    return listRuns(d);
  } finally {
    d.close();
  }
}

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
  const texts = fixtureTexts(loadPromptSet('colours').templates);
  await writeToyClip(modelDirs['ViT-B-32__openai'], texts);
  await writeClipArch(modelDirs['tiny-a'], 'tiny', texts, { seed: 1 });
  await writeClipArch(modelDirs['tiny-b'], 'tiny', texts, { seed: 2 });
  // an Immich cache also holds face models: a folder that is no CLIP export, skipped
  mkdirSync(path.join(cache, 'facial-recognition', 'buffalo_l', 'detection'), { recursive: true });
  writeFileSync(path.join(cache, 'facial-recognition', 'buffalo_l', 'detection', 'model.onnx'), 'x');
  cpSync(modelDirs['tiny-a'], broken, { recursive: true });
  writeFileSync(path.join(broken, 'visual', 'model.onnx'), 'not an ONNX graph');
  await writeColourDataset(datasets['colours-a'], { perClass: 2, seed: 2021 });
  await writeColourDataset(datasets['colours-b'], { perClass: 3, seed: 5 });
  writeFileSync(
    suiteFile,
    JSON.stringify({
      datasets: [
        { dataset: 'imagefolder', dirs: ['colours'], prompts: 'colours', name: 'colours-a' },
        { dataset: 'imagefolder', dirs: ['colours2'], prompts: 'colours', name: 'colours-b' },
        { dataset: 'dtd', dirs: ['dtd'] },
      ],
    }),
  );
}, 120_000);

/** top-1 in percent of a single `eval` of one pair, in a DB of its own. */
function singleEval(model: string, root: string, db: string): number {
  const r = cli(['eval', '--model', model, '--dataset', 'imagefolder', '--root', root, '--prompts', 'colours', '--db', db, '--workers', '1', '--json', '--quiet']);
  expect(r.code).toBe(0);
  return 100 * JSON.parse(r.stdout).top1;
}

interface ModelJson {
  model: string;
  dir: string;
  architecture: string | null;
  pretrained: string | null;
  table: { rows: { name: string; ours: number; runId: number }[] } | null;
}

describe('clip-bench suite --models-dir / --models / --models-from', () => {
  const db = path.join(dir, 'many.sqlite');

  it('--models-dir runs every model of an Immich cache on every dataset; each number is that of a single eval', () => {
    const r = cli(suiteArgs(db, '--models-dir', cache, '--json', '--quiet'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { models: ModelJson[]; failures: unknown[]; skipped: string[]; matrix: { rows: { name: string; cells: number[] }[] } };
    expect(out.models.map((m) => [m.model, m.dir, m.architecture, m.pretrained])).toEqual([
      ['ViT-B-32__openai', modelDirs['ViT-B-32__openai'], 'ViT-B-32', 'openai'],
      ['tiny-a', modelDirs['tiny-a'], null, null],
      ['tiny-b', modelDirs['tiny-b'], null, null],
    ]);
    expect(out.failures).toEqual([]);
    expect(out.skipped).toEqual(['dtd']);
    const seen = new Set<number>();
    for (const [i, m] of out.models.entries()) {
      expect(m.table!.rows.map((x) => x.name)).toEqual(['colours-a', 'colours-b']);
      for (const [j, row] of m.table!.rows.entries()) {
        const expected = singleEval(m.dir, datasets[row.name as keyof typeof datasets], path.join(dir, `single-${m.model}-${row.name}.sqlite`));
        expect(row.ours).toBeCloseTo(expected, 10);
        expect(out.matrix.rows[j].cells[i]).toBeCloseTo(expected, 10);
        seen.add(Math.round(expected * 100));
      }
    }
    expect(seen.size).toBeGreaterThan(1); // the models differ: a column mix-up would show
    expect(storedRuns(db).map((x) => [x.modelName, x.status])).toEqual(
      Object.keys(modelDirs).flatMap((m) => [[m, 'finished'], [m, 'finished']]),
    );
  }, 240_000);

  it('a second invocation skips every pair as done earlier, prints the models found first and the matrix; no run is added', () => {
    const before = storedRuns(db);
    const r = cli(suiteArgs(db, '--models-dir', cache));
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      '3 models:',
      ...Object.entries(modelDirs).map(([name, d]) => `  ${name} (${d})`),
      `not model folders, skipped (1): ${path.join('facial-recognition', 'buffalo_l')}`,
    ]);
    const done = lines.filter((l) => l.includes(': done earlier'));
    expect(done).toHaveLength(6);
    // model i/n and dataset j/m, and the run each pair was stored as
    expect(done[0]).toMatch(/^model 1\/3 ViT-B-32__openai \[1\/2\] colours-a: done earlier \(run 1\): top1 100\.00% over 16 samples$/);
    expect(done[5]).toMatch(/^model 3\/3 tiny-b \[2\/2\] colours-b: done earlier \(run 6\): top1 \d+\.\d\d% over 24 samples$/);
    expect(storedRuns(db)).toHaveLength(before.length);
    const row = (name: string) => {
      const cells = before.filter((x) => x.datasetRoot === datasets[name as keyof typeof datasets]).map((x) => (100 * x.top1!).toFixed(2));
      return `| ${name} | top1 | ${cells.join(' | ')} |`;
    };
    expect(r.stdout).toContain(['| dataset | metric | ViT-B-32__openai | tiny-a | tiny-b |', '|---|---|---:|---:|---:|', row('colours-a'), row('colours-b')].join('\n'));
    expect(r.stdout).toContain('suite two-colours: 3 models × 2 of 3 datasets under');
  }, 120_000);

  it('a broken model is recorded with its reason, the others run, the summary lists it, exit code 3', () => {
    const fresh = path.join(dir, 'with-broken.sqlite');
    const r = cli(suiteArgs(fresh, '--models', [modelDirs['ViT-B-32__openai'], broken, modelDirs['tiny-a']].join(','), '--json', '--quiet'));
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout) as { models: ModelJson[]; failures: { model: string; dataset: string | null; reason: string }[] };
    expect(out.failures).toEqual([{ model: 'broken', dataset: null, reason: expect.stringMatching(/broken\/visual\/model\.onnx: onnxruntime cannot load this model/) }]);
    expect(out.models.map((m) => [m.model, m.table?.rows.length ?? null])).toEqual([['ViT-B-32__openai', 2], ['broken', null], ['tiny-a', 2]]);
    expect(storedRuns(fresh).map((x) => x.modelName)).toEqual(['ViT-B-32__openai', 'ViT-B-32__openai', 'tiny-a', 'tiny-a']);
    const text = cli(suiteArgs(fresh, '--models', [modelDirs['ViT-B-32__openai'], broken].join(','), '--quiet'));
    expect(text.code).toBe(3);
    expect(text.stdout).toMatch(/\nfailed \(1\):\n {2}broken: .*onnxruntime cannot load this model/);
  }, 120_000);

  it.each([
    ['a models file naming a missing folder', () => {
      const file = path.join(dir, 'models.txt');
      writeFileSync(file, `# two models\n${modelDirs['tiny-a']}\nno-such-model\n`);
      return [['--models-from', file], `clip-bench: ${file}: line 3: model folder not found: ${path.join(dir, 'no-such-model')} — fix or remove that line`];
    }],
    ['a models folder with no model', () => {
      const empty = path.join(dir, 'no-models', 'clip');
      mkdirSync(empty, { recursive: true });
      return [['--models-dir', path.dirname(empty)], `clip-bench: ${path.dirname(empty)}: no model folder within 2 levels; not models: clip`];
    }],
    ['--name with many models', () => [['--models', modelDirs['tiny-a'], '--name', 'x'], 'clip-bench: --name names the single --model']],
  ] as [string, () => [string[], string]][])('%s: one line, exit code 2, before any work', (_what, setup) => {
    const [flags, line] = setup();
    const never = path.join(dir, 'never.sqlite');
    const r = cli(suiteArgs(never, ...flags));
    expect([r.code, r.stderr.trim().split('\n').length]).toEqual([2, 1]);
    expect(r.stderr.startsWith(line)).toBe(true);
    expect(existsSync(never)).toBe(false);
  });

  it('a models file lists folders relative to itself', () => {
    const file = path.join(cache, 'clip', 'two.txt');
    writeFileSync(file, 'tiny-b   # random weights\n\nViT-B-32__openai\n');
    const r = cli(suiteArgs(db, '--models-from', file, '--json', '--quiet'));
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { models: ModelJson[] }).models.map((m) => [m.model, m.table!.rows.map((x) => x.runId)])).toEqual([['tiny-b', [5, 6]], ['ViT-B-32__openai', [1, 2]]]);
  }, 120_000);
});

describe('--name', () => {
  it('names the model in the stored run, the runs listing and the report; the name is not part of the run\'s identity', () => {
    const db = path.join(dir, 'named.sqlite');
    const r = cli(suiteArgs(db, '--model', modelDirs['ViT-B-32__openai'], '--name', 'ViT-L-14__my-finetune', '--quiet'));
    expect(r.code).toBe(0);
    expect(storedRuns(db).map((x) => [x.modelName, x.architecture, x.pretrained])).toEqual([
      ['ViT-L-14__my-finetune', 'ViT-L-14', 'my-finetune'],
      ['ViT-L-14__my-finetune', 'ViT-L-14', 'my-finetune'],
    ]);
    const runs = JSON.parse(cli(['runs', '--db', db, '--json']).stdout) as { model: string; architecture: string; pretrained: string }[];
    expect(runs.map((x) => [x.model, x.architecture, x.pretrained])).toEqual([['ViT-L-14__my-finetune', 'ViT-L-14', 'my-finetune'], ['ViT-L-14__my-finetune', 'ViT-L-14', 'my-finetune']]);
    expect(cli(['report', '--db', db]).stdout).toContain('ViT-L-14__my-finetune');
    // the same pairs under the folder's name: found as done (the fingerprint is the identity), kept under the name they were stored with
    const again = cli(suiteArgs(db, '--model', modelDirs['ViT-B-32__openai']));
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('[1/2] colours-a: done earlier (run 1)');
    expect(storedRuns(db).map((x) => x.modelName)).toEqual(['ViT-L-14__my-finetune', 'ViT-L-14__my-finetune']);
    // eval --name stores its own name
    const e = cli(['eval', '--model', modelDirs['tiny-a'], '--name', 'renamed', '--dataset', 'imagefolder', '--root', datasets['colours-a'], '--prompts', 'colours', '--db', db, '--json', '--quiet']);
    expect(JSON.parse(e.stdout).model).toBe('renamed');
    expect(storedRuns(db).at(-1)!.modelName).toBe('renamed');
  }, 120_000);
});

describe('--cost', () => {
  it("measures each model's cost in its own process once per machine, beside its accuracy in the report; a second suite reuses it", async () => {
    const { listCosts } = await import('../src/store/cost.js');
    const db = path.join(dir, 'cost.sqlite');
    const models = `${modelDirs['tiny-a']},${modelDirs['tiny-b']}`;
    const first = cli(suiteArgs(db, '--models', models, '--cost', '--json'));
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr.match(/cost: measured/g)).toHaveLength(2);
    const d = openDb(db, { readonly: true });
    let costs: ReturnType<typeof listCosts>;
    try {
      costs = listCosts(d);
      // one record per model, keyed by the fingerprint its runs carry
      expect(costs.map((c) => c.fingerprint).sort()).toEqual([...new Set(listRuns(d).map((r) => r.modelFingerprint))].sort());
    } finally {
      d.close();
    }
    const again = cli(suiteArgs(db, '--models', models, '--cost', '--json'));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr.match(/cost: stored earlier/g)).toHaveLength(2);
    const d2 = openDb(db, { readonly: true });
    try {
      expect(listCosts(d2).map((c) => c.measuredAt).sort()).toEqual(costs.map((c) => c.measuredAt).sort());
    } finally {
      d2.close();
    }
    const report = JSON.parse(cli(['report', '--db', db, '--format', 'json']).stdout) as { cost: { groups: { points: { model: string }[] }[] } | null };
    expect(report.cost!.groups[0].points.map((p) => p.model).sort()).toEqual(['tiny-a', 'tiny-b']);
  }, 300_000);
});
