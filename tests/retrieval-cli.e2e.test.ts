/** Retrieval through the built `clip-bench` executable (needs `npm run build`), on the random-weight CLIP fixture. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDemo } from '../src/fixtures/demo.js';
import { writeClipArch } from '../src/fixtures/fixture-models.js';
import { packageRoot } from '../src/paths.js';
import { openDb } from '../src/store/db.js';
import { flickrImages, write, writeImages, writeKarpathy, type FixtureImage } from './support/retrieval-writers.js';
import { retrievalOracle } from './support/retrieval-oracle.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
let tmp: string;
let model: string;
let root: string;
let images: FixtureImage[];

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmp });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-retrieval-cli-'));
  // 11 test images (so recall@10 fits both galleries) and a val image that must stay out
  images = flickrImages([...Array<string>(11).fill('test'), 'val'], [5, 5, 6, 5, 7, 5, 5, 5, 5, 5, 5, 5]);
  root = path.join(tmp, 'flickr30k');
  writeKarpathy(root, 'flickr30k', images);
  await writeImages(root, 'flickr30k-images', images);
  model = path.join(tmp, 'tiny');
  await writeClipArch(model, 'tiny', images.flatMap((im) => im.captions));
});

const evalArgs = (db: string, ...more: string[]) => ['eval', '--model', model, '--dataset', 'flickr30k', '--root', root, '--db', db, '--quiet', ...more];

describe('clip-bench eval on a retrieval dataset', () => {
  it('--json prints the run with task, counts and CLIP_benchmark metrics equal to brute force on the stored embeddings', () => {
    const db = path.join(tmp, 'json.sqlite');
    const r = cli(evalArgs(db, '--json', '--recall-k', '1,2,5'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ runId: 1, task: 'retrieval', dataset: 'flickr30k', n_images: 11, n_captions: 58, n_failed_images: 0, n_truncated_captions: 0, caption_prefix: '' });
    const d = openDb(db, { readonly: true });
    const o = retrievalOracle(d, 1, [1, 2, 5]);
    d.close();
    expect(Object.keys(out.metrics).sort()).toEqual(Object.keys(o.values).sort());
    for (const [k, v] of Object.entries(o.values)) expect(out.metrics[k], k).toBeCloseTo(v, 12);
  });

  it('text output names both directions in words, the counts with the captions-per-image note, and where it is stored', () => {
    const db = path.join(tmp, 'text.sqlite');
    const r = cli(evalArgs(db, '--caption-prefix', 'a photo of '));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^run 1: .* retrieval on flickr30k\/test, read from Karpathy dataset_flickr30k\.json split test, images in flickr30k-images\//);
    expect(r.stdout).toContain('11 images, 58 captions (9 images with 5, 1 with 6, 1 with 7)');
    expect(r.stdout).toMatch(/\n {2}text→image {2}R@1 \d+\.\d\d% {3}R@5 \d+\.\d\d% {3}R@10 \d+\.\d\d% {3}mean rank \d+\.\d\d, median \d+\n/);
    expect(r.stdout).toMatch(/\n {2}image→text {2}R@1 \d+\.\d\d% {3}R@5 /);
    expect(r.stdout).toMatch(/mean_recall@1 \d+\.\d\d% \(½ of both R@1, the headline\) over 11 images and 58 captions/);
    expect(r.stdout).toContain('captions prefixed with "a photo of "; 0 longer than the 77-token context and truncated');
    expect(r.stdout).toContain(`stored as run 1 in ${db}`);
    // runs lists it by its headline; report shows it in its retrieval section (tests/retrieval-report.e2e.test.ts checks the numbers)
    expect(cli(['runs', '--db', db]).stdout).toMatch(/mean_recall@1 \d+\.\d\d \(text→image R@1 \d+\.\d\d, image→text R@1 \d+\.\d\d\)/);
    const report = cli(['report', '--db', db]);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('#### Retrieval: flickr30k (flickr30k) / test');
  });

  it('predictions exports one JSONL row per query, with the stored ranks', () => {
    const db = path.join(tmp, 'json.sqlite');
    const r = cli(['predictions', '--run', '1', '--db', db]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(58 + 11);
    expect(Object.keys(rows[0])).toEqual(['query', 'index', 'key', 'caption', 'rank', 'top10']);
    expect(Object.keys(rows[58])).toEqual(['query', 'index', 'key', 'rank', 'top10']);
    const test = images.filter((im) => im.split === 'test');
    expect(rows.slice(0, 58).map((x) => [x.key, x.caption])).toEqual(test.flatMap((im) => im.captions.map((c) => [im.name, c])));
    expect(rows.slice(58).map((x) => [x.query, x.index, x.key])).toEqual(test.map((im, i) => ['image', i, im.name]));
    const d = openDb(db, { readonly: true });
    const o = retrievalOracle(d, 1, [1]);
    d.close();
    expect(rows.slice(0, 58).map((x) => x.rank)).toEqual(o.t2i);
    expect(rows.slice(58).map((x) => x.rank)).toEqual(o.i2t);
    for (const x of rows) expect(x.top10).toHaveLength(10);
  });

  it('--shard 0/2 and 1/2 merged give exactly the unsharded metrics and query rows', () => {
    const whole = path.join(tmp, 'whole.sqlite');
    expect(cli(evalArgs(whole, '--no-cache')).code).toBe(0);
    const shards = [0, 1].map((i) => path.join(tmp, `shard-${i}.sqlite`));
    shards.forEach((db, i) => {
      const r = cli(evalArgs(db, '--shard', `${i}/2`));
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('merge the shard DBs with `clip-bench merge` to rank them');
    });
    // a shard has no ranks: report names it instead of a section
    const shardReport = cli(['report', '--db', shards[0]]).stdout;
    expect(shardReport).toContain('Retrieval run 1 is a shard, not ranked until merged (`clip-bench merge`), so not shown here.');
    expect(shardReport).not.toContain('#### Retrieval:');
    expect(cli(['predictions', '--run', '1', '--db', shards[0]]).stderr).toMatch(/shard 0\/2 of a retrieval run: its queries are ranked only over every image — merge the shard DBs/);
    const into = path.join(tmp, 'merged.sqlite');
    const m = cli(['merge', ...shards, '--into', into]);
    expect(m.code).toBe(0);
    expect(cli(['predictions', '--run', '1', '--db', into]).stdout).toBe(cli(['predictions', '--run', '1', '--db', whole]).stdout);
    const metrics = (db: string) => {
      const d = openDb(db, { readonly: true });
      const v = d.prepare('SELECT metrics FROM runs WHERE id = 1').pluck().get();
      d.close();
      return JSON.parse(v as string);
    };
    expect(metrics(into)).toEqual(metrics(whole));
  });

  it('a missing image is a failed sample: stated in the output, its captions counted as misses', () => {
    const r2 = path.join(tmp, 'missing');
    writeKarpathy(r2, 'flickr30k', images);
    mkdirSync(path.join(r2, 'flickr30k-images'));
    return writeImages(r2, 'flickr30k-images', images).then(() => {
      rmSync(path.join(r2, 'flickr30k-images', images[2].name));
      const r = cli(['eval', '--model', model, '--dataset', 'flickr30k', '--root', r2, '--db', path.join(tmp, 'missing.sqlite'), '--quiet']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('1 listed image is missing');
      expect(r.stdout).toContain('1 image failed (missing or undecodable), counted as misses with 6 captions');
      const rows = cli(['predictions', '--run', '1', '--db', path.join(tmp, 'missing.sqlite')]).stdout.trim().split('\n').map((l) => JSON.parse(l));
      const failed = rows.filter((x) => x.status === 'failed');
      // its 6 captions (misses at the worst rank, 11) and its own query (with the reason, no top-10)
      expect(failed.map((x) => [x.query, x.key])).toEqual([...Array(6).fill(['text', images[2].name]), ['image', images[2].name]]);
      expect(failed.filter((x) => x.query === 'text').every((x) => x.rank === 11)).toBe(true);
      expect(failed[6]).toMatchObject({ rank: 58 - 6 + 1, top10: [] });
      expect(failed[6].error).toMatch(/./);
      expect(rows.filter((x) => x.error).length).toBe(1);
    });
  });

  it.each([
    ['a root holding none of the layouts', () => ['--root', path.join(tmp, 'empty')], /flickr30k/],
    ['a cut-off larger than the gallery', () => ['--recall-k', '1,50'], /recall@50 needs at least 50 items in each gallery, but there are 11 images and 58 captions/],
    ['no recall@1', () => ['--recall-k', '5'], /mean_recall@1 needs recall@1 among the cut-offs/],
    ['--prompts', () => ['--prompts', 'single'], /--prompts is for classification; flickr30k is a retrieval dataset/],
    ['a malformed --recall-k', () => ['--recall-k', 'one'], /--recall-k takes whole numbers separated by commas/],
    ['a malformed annotation file', () => ['--root', path.join(tmp, 'bad-json')], /dataset_flickr30k\.json/],
  ])('%s: one line, exit 2, no DB', (_, extra, message) => {
    mkdirSync(path.join(tmp, 'empty'), { recursive: true });
    write(path.join(tmp, 'bad-json'), 'dataset_flickr30k.json', '{"images": [\n  {"filename": 1}\n');
    const db = path.join(tmp, `bad-${Math.random().toString(36).slice(2)}.sqlite`);
    const args = evalArgs(db);
    const rootAt = args.indexOf('--root');
    const more = extra();
    if (more[0] === '--root') args.splice(rootAt, 2, ...more);
    else args.push(...more);
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(db)).toBe(false);
  });

  it('--recall-k on a classification dataset is refused; classification --json says its task', async () => {
    const demo = await writeDemo(path.join(tmp, 'demo'), 1);
    const r = cli(['eval', '--model', demo.model, '--dataset', 'imagefolder', '--root', demo.root, '--recall-k', '1', '--db', path.join(tmp, 'c.sqlite')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--recall-k is for retrieval datasets \(flickr30k, flickr8k, mscoco, crossmodal3600, xtd10, multilingual_mscoco\), not imagefolder/);
    // into the DB that holds a retrieval run: the report shows the classification table and the retrieval section
    const mixed = path.join(tmp, 'text.sqlite');
    const c = cli(['eval', '--model', demo.model, '--dataset', 'imagefolder', '--root', demo.root, '--prompts', 'colours', '--db', mixed, '--json', '--quiet']);
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({ task: 'classification', runId: 2, dataset: 'imagefolder', n: 8, top1: 1 });
    const report = cli(['report', '--db', mixed]);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/\| toy-clip \([0-9a-f]{8}\) \| 100\.00 \/ 100\.00 \(n=8\) \|/);
    expect(report.stdout).toContain('#### Retrieval: flickr30k (flickr30k) / test');
    for (const format of ['json', 'csv']) expect(cli(['report', '--db', mixed, '--format', format]).code).toBe(0);
    expect(cli(['report', '--db', mixed, '--format', 'html', '--out', path.join(tmp, 'mixed.html')]).code).toBe(0);
  });

  it('suite paper-retrieval runs the retrieval datasets found, by their headline, and lists the others as skipped', async () => {
    const dataRoot = path.join(tmp, 'data');
    writeKarpathy(path.join(dataRoot, 'flickr30k'), 'flickr30k', images);
    await writeImages(path.join(dataRoot, 'flickr30k'), 'flickr30k-images', images);
    const db = path.join(tmp, 'suite.sqlite');
    const r = cli(['suite', '--model', model, '--suite', 'paper-retrieval', '--data-root', dataRoot, '--db', db, '--json', '--quiet', '--caption-prefix', 'a photo of ']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const table = JSON.parse(r.stdout);
    expect(table.rows).toHaveLength(1);
    expect(table.rows[0]).toMatchObject({ dataset: 'flickr30k', metric: 'mean_recall@1', n: 11, promptSet: 'captions with prefix "a photo of "' });
    expect(table.skipped.map((x: { dataset: string }) => x.dataset)).toEqual(['mscoco']);
    // the same number as eval with the same prefix (a fresh run: another DB, same images)
    const args = evalArgs(path.join(tmp, 'suite-eval.sqlite'), '--json', '--caption-prefix', 'a photo of ');
    args[args.indexOf('--root') + 1] = path.join(dataRoot, 'flickr30k');
    const e = JSON.parse(cli(args).stdout);
    expect(table.rows[0].ours).toBeCloseTo(100 * e.metrics['mean_recall@1'], 12);
    const bad = cli(['suite', '--model', model, '--suite', 'paper-retrieval', '--data-root', dataRoot, '--db', path.join(tmp, 'never.sqlite'), '--recall-k', 'x']);
    expect([bad.code, bad.stderr.trim().split('\n').length]).toEqual([2, 1]);
    expect(bad.stderr).toMatch(/--recall-k takes whole numbers/);
  });

  it('datasets lists the three retrieval datasets with their layouts; an unknown id suggests among both kinds', () => {
    const r = cli(['datasets']);
    for (const id of ['flickr30k', 'flickr8k', 'mscoco']) expect(r.stdout).toMatch(new RegExp(`^${id} {2}\\(test, .*retrieval: mean_recall@1`, 'm'));
    expect(r.stdout).toContain('dataset_coco.json');
    expect(r.stdout).toContain('test: 5000 images, 25010 captions');
    const u = cli(['eval', '--model', model, '--dataset', 'flikr30k', '--root', root]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/unknown dataset "flikr30k"\. Did you mean "flickr30k"\?/);
  });
});
