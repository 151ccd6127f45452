/**
 * The results DB as a user meets it through the built CLI: where `eval` stored a run, `clip-bench runs`,
 * unfinished runs named by `report`, the same eval started twice on one DB, mistakes that must leave no
 * DB behind, and a reader that closes stdout early.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemo, type DemoPaths } from '../src/fixtures/demo.js';
import { openDb } from '../src/store/db.js';
import { createRun, insertPredictions, markRun } from '../src/store/runs.js';
import { cli, countRows, lines, peekDb, rawDb, requireBuilt, startCli } from './faults/support/faults.js';
import { runIdentity } from './support/run-identity.js';

let tmp: string;
let demo: DemoPaths;
const PER_CLASS = 12;
const TOTAL = 8 * PER_CLASS;

const evalArgs = (db: string, extra: string[] = []) => ['eval', '--model', demo.model, '--dataset', 'imagefolder', '--root', demo.root, '--prompts', 'colours', '--db', db, '--quiet', '--workers', '1', ...extra];

beforeAll(async () => {
  requireBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-store-cli-'));
  demo = await writeDemo(path.join(tmp, 'demo'), PER_CLASS);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A DB holding one run stopped part-way (as Ctrl-C leaves it), made with the store's own functions. */
function interruptedDb(name: string, done: number, total: number): string {
  const file = path.join(tmp, name);
  const db = openDb(file);
  const id = createRun(db, runIdentity({ modelDir: '/models/toy', datasetRoot: '/data/colours', promptSet: 'colours', params: { limit: total, nSamples: total } }));
  insertPredictions(db, id, Array.from({ length: done }, (_, i) => ({ idx: i, key: `k${i}`, label: 0, top5: [0], top5Logits: [1], error: null })));
  markRun(db, id, 'interrupted');
  db.close();
  return file;
}

describe('where a run is stored, and which runs a DB holds', () => {
  it('eval prints the DB and the run id; --json has "db"', () => {
    const db = path.join(tmp, 'stored.sqlite');
    const text = cli(evalArgs(db, ['--limit', '8']));
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`stored as run 1 in ${db} (\`clip-bench predictions --run 1 --db ${db}\``);
    const json = cli(evalArgs(db, ['--limit', '16', '--json']));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ runId: 2, db, n: 16 });
  });

  it('clip-bench runs lists every run: id, status, model, dataset and root, split, prompts, done/total, started, metrics', () => {
    const db = path.join(tmp, 'stored.sqlite');
    const r = cli(['runs', '--db', db, '--json']);
    expect(r.code).toBe(0);
    const runs = JSON.parse(r.stdout);
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ id: 1, status: 'finished', inProgress: false, model: 'toy-clip', dataset: 'imagefolder', root: demo.root, split: 'all', promptSet: 'colours', done: 8, total: 8, metrics: { headline: 'top1', value: 1, top1: 1 } });
    expect(runs[1]).toMatchObject({ id: 2, done: 16, total: 16 });
    expect(typeof runs[0].startedAt).toBe('string');
    const text = cli(['runs', '--db', db]);
    expect(text.stdout.split('\n')[0]).toMatch(/^id +status +model +dataset \(root\) +split +prompts +done\/total +started \(UTC\) +metrics$/);
    expect(text.stdout).toMatch(/\n2 +finished +toy-clip \([0-9a-f]{8}\) +imagefolder \(colours: .*\) +all +colours +16\/16 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +top1 100\.00 \(top-5 100\.00\)\n/);
    expect(cli(['runs', '--help']).stdout).toMatch(/Examples:[\s\S]*clip-bench runs --db shard-2\.sqlite --json/);
  });

  it('an interrupted run: runs shows its progress and the command that continues it; report names it instead of "No finished runs"', () => {
    const db = interruptedDb('interrupted.sqlite', 5, 20);
    const runs = JSON.parse(cli(['runs', '--db', db, '--json']).stdout);
    const resume = `clip-bench eval --model /models/toy --dataset imagefolder --root /data/colours --split all --prompts colours --limit 20 --db ${db} --resume 1`;
    expect(runs).toMatchObject([{ id: 1, status: 'interrupted', done: 5, total: 20, metrics: null, resume }]);
    for (const format of ['md', 'json'] as const) {
      const r = cli(['report', '--db', db, '--format', format]);
      expect(r.code).toBe(0);
      if (format === 'json') expect(JSON.parse(r.stdout).unfinished).toMatchObject([{ id: 1, status: 'interrupted', done: 5, total: 20, resume }]);
      else {
        expect(r.stdout).not.toContain('run `clip-bench eval` first');
        expect(r.stdout).toContain(`run 1 interrupted: toy on imagefolder/all (/data/colours) with prompts "colours", 5 of 20 samples done; to continue: ${resume}`);
      }
    }
  });
});

describe('the same eval started twice on one DB', () => {
  /** A finished run made by the CLI, put back to "running" by `owner` as if that process were still writing it. */
  function runningRun(name: string, owner: { pid: number; host?: string; exe?: string }): string {
    const db = path.join(tmp, name);
    expect(cli(evalArgs(db, ['--limit', '8'])).code).toBe(0);
    const h = rawDb(db);
    h.prepare(`UPDATE runs SET status = 'running', finished_at = NULL, owner = ? WHERE id = 1`).run(JSON.stringify({ host: owner.host ?? os.hostname(), pid: owner.pid, exe: owner.exe, token: 't', since: '2026-01-01T00:00:00.000Z' }));
    h.prepare('DELETE FROM predictions WHERE idx >= 3').run();
    h.close();
    return db;
  }

  it('while a live process writes the run: the second stops with one line naming the run in progress, nothing written', () => {
    // this test process stands in for the first eval: alive, on this host
    const db = runningRun('live-owner.sqlite', { pid: process.pid });
    const r = cli(evalArgs(db, ['--limit', '8']));
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([
      `clip-bench: ${db}: run 1 (toy-clip on imagefolder/all, prompts "colours", the same settings) is already in progress: pid ${process.pid}, started 2026-01-01 00:00:00 UTC, 3 of 8 samples so far — wait for it to finish (\`clip-bench runs --db ${db}\` shows its progress) or stop it, then run this command again`,
    ]);
    expect([countRows(db, 'runs'), countRows(db, 'predictions')]).toEqual([1, 3]);
    expect(JSON.parse(cli(['runs', '--db', db, '--json']).stdout)).toMatchObject([{ id: 1, status: 'running', inProgress: true, done: 3, total: 8 }]);
  });

  it('a run whose process is gone (killed, crashed) is continued, as before', async () => {
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.on('close', resolve));
    const db = runningRun('dead-owner.sqlite', { pid: gone.pid! });
    expect(JSON.parse(cli(['runs', '--db', db, '--json']).stdout)).toMatchObject([{ id: 1, status: 'running', inProgress: false }]);
    const r = cli(evalArgs(db, ['--limit', '8', '--json']));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ runId: 1, resumed: true, n: 8, top1: 1 });
  });

  it.skipIf(!existsSync(`/proc/${process.pid}/exe`))('a pid now used by another program is not the owner: the run is continued', () => {
    const db = runningRun('reused-pid.sqlite', { pid: process.pid, exe: '/usr/bin/some-other-program' });
    const r = cli(evalArgs(db, ['--limit', '8', '--json']));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ runId: 1, resumed: true, n: 8 });
  });

  it('a run owned on another host: refused (it cannot be checked), and --resume takes it over', () => {
    const db = runningRun('other-host.sqlite', { pid: 1, host: 'elsewhere.invalid' });
    const r = cli(evalArgs(db, ['--limit', '8']));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run 1 .* is already in progress: pid 1 on elsewhere\.invalid, .*; if that process is gone, add --resume 1$/m);
    const resumed = cli(evalArgs(db, ['--limit', '8', '--resume', '1', '--json']));
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ runId: 1, resumed: true, n: 8 });
  });

  it('both at the same instant on a new DB: one run, every sample once, no internal error', async () => {
    const db = path.join(tmp, 'instant.sqlite');
    const [a, b] = await Promise.all([startCli(evalArgs(db, ['--batch-size', '1'])).done, startCli(evalArgs(db, ['--batch-size', '1'])).done]);
    for (const r of [a, b]) expect(r.stderr).not.toMatch(/internal error|SqliteError/);
    // either the second was refused while the first ran, or it came after and found the run finished and made its own
    expect([a.code, b.code].sort()).toEqual(countRows(db, 'runs') === 1 ? [0, 2] : [0, 0]);
    const h = peekDb(db);
    const perRun = h.prepare('SELECT run_id, count(*) AS n, count(DISTINCT idx) AS d FROM predictions GROUP BY run_id').all() as { n: number; d: number }[];
    h.close();
    for (const r of perRun) expect(r).toMatchObject({ n: TOTAL, d: TOTAL });
  }, 60_000);
});

describe('a failed command leaves no DB behind', () => {
  it('--resume of a run id that does not exist, on a new --db: one line, exit 2, no file', () => {
    const db = path.join(tmp, 'never.sqlite');
    const r = cli(evalArgs(db, ['--resume', '42']));
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([`clip-bench: ${db}: no run 42: the results database does not exist — pass --db with the database the run is in (\`clip-bench runs --db FILE\` lists its runs), or leave out --resume`]);
    for (const f of [db, `${db}-wal`, `${db}-shm`]) expect(existsSync(f), f).toBe(false);
  });

  it('merge of databases with no shard runs into a new file: one line, exit 2, no file', () => {
    const into = path.join(tmp, 'merged.sqlite');
    const r = cli(['merge', path.join(tmp, 'stored.sqlite'), '--into', into]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(['clip-bench: no finished shard runs in the given databases — run `clip-bench eval … --shard i/n --db FILE` for every shard first']);
    for (const f of [into, `${into}-wal`, `${into}-shm`]) expect(existsSync(f), f).toBe(false);
  });
});

describe('a reader that closes stdout early', () => {
  it('`predictions --run 1 | head -1`: ends quietly with exit 0, no EPIPE stack trace', async () => {
    // 4000 predictions, far more than a pipe buffer holds: the write after the reader has gone fails with EPIPE
    const file = path.join(tmp, 'many.sqlite');
    const db = openDb(file);
    const id = createRun(db, runIdentity());
    insertPredictions(db, id, Array.from({ length: 4000 }, (_, i) => ({ idx: i, key: `class/${String(i).padStart(6, '0')}.jpg`, label: 0, top5: [0, 1, 2], top5Logits: [31.25, 20.5, -3], error: null })));
    db.close();
    for (const args of [['predictions', '--run', '1', '--db', file], ['runs', '--db', file, '--json']]) {
      const child = spawn(process.execPath, [path.join('dist', 'src', 'cli', 'main.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout.once('data', () => child.stdout.destroy()); // what `head -1` does once it has its line
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect([args[0], code, stderr]).toEqual([args[0], 0, '']);
    }
  }, 30_000);
});
