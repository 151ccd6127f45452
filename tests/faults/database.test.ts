/**
 * Faults in the results database: two writers at once, old and newer schemas, a read-only file, a full
 * disk, a file that is not a database. Nothing may be lost, the DB must stay intact, and what reaches the
 * user must be one clear line.
 */
import { runIdentity } from '../support/run-identity.js';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, vi } from 'vitest';
import { main } from '../../src/cli/cli.js';
import { UsageError } from '../../src/errors.js';
import { runZeroShot, type EvalOptions } from '../../src/eval/zero-shot.js';
import { writeDemo, type DemoPaths } from '../../src/fixtures/demo.js';
import { packageRoot } from '../../src/paths.js';
import { dbUsageError, openDb } from '../../src/store/db.js';
import { MIGRATIONS } from '../../src/store/schema.js';
import { createRun, getRun, iteratePredictions, listRuns, type RunIdentity } from '../../src/store/runs.js';
import { asNobody, cli, countRows, faultCategory, giveToNobody, lines, peekDb, permissionsIgnored, rawDb, requireBuilt, sha256File, shareWithNobody, startCli, tmpDir } from './support/faults.js';

/**
 * Fault injection into the CLI's own connection: `openDb` as the CLI calls it, then made full
 * (`max_page_count` = the current size, so the next page the DB needs fails with SQLITE_FULL) or opened
 * read-only (every write fails with SQLITE_READONLY). Off unless a case turns it on.
 */
const inject = vi.hoisted(() => ({ mode: undefined as undefined | 'full' | 'readonly' }));
vi.mock('../../src/store/db.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/store/db.js')>();
  return {
    ...real,
    openDb: (file: string, opts: { readonly?: boolean } = {}) => {
      if (inject.mode === 'readonly') return real.openDb(file, { readonly: true });
      const db = real.openDb(file, opts);
      if (inject.mode === 'full') db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
      return db;
    },
  };
});

const c = faultCategory('database');

let tmp: string;
let demo: DemoPaths;
const PER_CLASS = 4;
const TOTAL = 8 * PER_CLASS;

const opts = (over: Partial<EvalOptions> = {}): EvalOptions => ({ modelDir: demo.model, dataset: 'imagefolder', root: demo.root, prompts: 'colours', batchSize: 4, workers: 1, cache: false, ...over });
const evalArgs = (db: string, extra: string[] = []) => ['eval', '--model', demo.model, '--dataset', 'imagefolder', '--root', demo.root, '--prompts', 'colours', '--db', db, '--quiet', '--json', '--workers', '1', ...extra];

const identity = (over: Partial<RunIdentity> = {}): RunIdentity => runIdentity({ nClasses: 8, promptSet: 'colours', params: {}, environment: {}, ...over });

function integrity(file: string): string {
  const db = peekDb(file);
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

/** Runs `main` in this process (the CLI's own code path, with injected faults), capturing stderr and the exit code. */
async function mainInProcess(argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const before = process.exitCode;
  try {
    await main(argv);
    return { code: Number(process.exitCode ?? 0), stderr, stdout };
  } finally {
    err.mockRestore();
    out.mockRestore();
    process.exitCode = before;
  }
}

beforeAll(async () => {
  requireBuilt();
  tmp = tmpDir('database');
  demo = await writeDemo(path.join(tmp, 'demo'), PER_CLASS);
  if (asNobody) shareWithNobody(tmp); // the read-only cases run the CLI as nobody when we are root
});

afterAll(() => {
  inject.mode = undefined;
});

describe('two writers', () => {
  c.fault('two `clip-bench eval` processes on one new DB at once: both finish, no row lost or doubled', async () => {
    const db = path.join(tmp, 'shared.sqlite');
    // batch size 1: a transaction per sample, so the two processes' writes interleave
    const a = startCli(evalArgs(db, ['--limit', '12', '--batch-size', '1']));
    const b = startCli(evalArgs(db, ['--limit', '20', '--batch-size', '1']));
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect([ra.code, ra.stderr]).toEqual([0, '']);
    expect([rb.code, rb.stderr]).toEqual([0, '']);
    const ja = JSON.parse(ra.stdout);
    const jb = JSON.parse(rb.stdout);
    expect(new Set([ja.runId, jb.runId]).size).toBe(2);
    expect([ja.n, jb.n]).toEqual([12, 20]);
    expect(countRows(db, 'runs', "WHERE status = 'finished'")).toBe(2);
    expect(countRows(db, 'predictions')).toBe(32);
    expect(countRows(db, 'predictions', `WHERE run_id = ${ja.runId}`)).toBe(12);
    expect(countRows(db, 'predictions', `WHERE run_id = ${jb.runId}`)).toBe(20);
    const h = peekDb(db);
    const per = h.prepare('SELECT run_id, count(DISTINCT idx) AS d, min(idx) AS lo, max(idx) AS hi FROM predictions GROUP BY run_id ORDER BY run_id').all();
    h.close();
    expect(per).toEqual([
      { run_id: ja.runId, d: 12, lo: 0, hi: 11 },
      { run_id: jb.runId, d: 20, lo: 0, hi: 19 },
    ].sort((x, y) => x.run_id - y.run_id));
    // both runs score the toy model's 100% on their samples: nothing was mixed up between them
    expect([ja.top1, jb.top1]).toEqual([1, 1]);
    expect(integrity(db)).toBe('ok');
  }, 60_000);

  c.fault('four processes creating one DB at the same instant: each migration is applied once, every run row kept', async () => {
    const db = path.join(tmp, 'race.sqlite');
    const go = path.join(tmp, 'race.go');
    const dist = (p: string) => JSON.stringify(pathToFileURL(path.join(packageRoot, 'dist', 'src', 'store', p)).href);
    // each waits for the starting gun, then opens (creating and migrating) the DB and records one run
    const script = `
      import { existsSync } from 'node:fs';
      import { openDb } from ${dist('db.js')};
      import { createRun } from ${dist('runs.js')};
      const end = Date.now() + 20000;
      while (!existsSync(process.env.GO) && Date.now() < end) await new Promise((r) => setTimeout(r, 1));
      const db = openDb(process.env.DB);
      createRun(db, ${JSON.stringify(identity())});
      db.close();
      process.stdout.write('ok');`;
    const { spawn } = await import('node:child_process');
    const procs = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, GO: go, DB: db }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      return new Promise<{ code: number | null; out: string }>((resolve) => child.on('close', (code) => resolve({ code, out })));
    });
    await new Promise((r) => setTimeout(r, 400)); // let them all reach the wait loop
    writeFileSync(go, '');
    const results = await Promise.all(procs);
    expect(results, JSON.stringify(results)).toEqual(Array.from({ length: 4 }, () => ({ code: 0, out: 'ok' })));
    const h = peekDb(db);
    expect(h.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    h.close();
    expect(countRows(db, 'runs')).toBe(4);
  }, 30_000);
});

describe('schema versions', () => {
  c.fault('a DB made by schema v1 is migrated on open and keeps its runs and predictions', () => {
    const file = path.join(tmp, 'v1.sqlite');
    const raw = rawDb(file);
    raw.exec(MIGRATIONS[0]);
    raw.pragma('user_version = 1');
    raw
      .prepare(
        `INSERT INTO runs (status, created_at, finished_at, model_name, model_dir, model_fingerprint, model_layout, model_variant, execution_provider,
           dataset, dataset_root, split, n_classes, prompt_set, prompt_hash, params, environment, timings, n, n_failed, top1, top5, metrics)
         VALUES ('finished', '2025-01-01T00:00:00Z', '2025-01-01T00:01:00Z', 'old-model', '/m', ?, 'immich', 'fp32', 'cpu',
           'imagefolder', '/d', 'all', 8, 'colours', 'h', '{"batchSize":4}', '{}', '{"totalSeconds":60}', 2, 1, 0.5, 0.5, '{}')`,
      )
      .run('a'.repeat(64));
    raw.prepare(`INSERT INTO predictions VALUES (1, 0, 'red/0.jpg', 0, '[0,1,2,3,4]', '[9,8,7,6,5]', NULL), (1, 1, 'red/1.jpg', 0, NULL, NULL, 'corrupt')`).run();
    raw.close();

    const db = openDb(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const run = getRun(db, 1);
    expect(run).toMatchObject({ id: 1, status: 'finished', modelName: 'old-model', n: 2, nFailed: 1, top1: 0.5, params: { batchSize: 4 }, identity: '', shard: null });
    expect([...iteratePredictions(db, 1)]).toEqual([
      { idx: 0, key: 'red/0.jpg', label: 0, top5: [0, 1, 2, 3, 4], top5Logits: [9, 8, 7, 6, 5], error: null },
      { idx: 1, key: 'red/1.jpg', label: 0, top5: null, top5Logits: null, error: 'corrupt' },
    ]);
    // and the migrated DB takes new runs with the v2 columns
    const id = createRun(db, identity({ identity: 'new', shard: '0/2' }));
    expect(getRun(db, id)).toMatchObject({ identity: 'new', shard: '0/2' });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    // reading it back with the CLI: the old run is in the report
    const r = cli(['report', '--db', file, '--format', 'csv']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`\\nold-model,${'a'.repeat(64)},imagefolder:[^,]*,1,2,1,0\\.5,0\\.5\\n`));
  });

  let newerCount = 0;
  const newer = () => {
    const file = path.join(tmp, `newer-${++newerCount}.sqlite`);
    const raw = rawDb(file);
    for (const m of MIGRATIONS) raw.exec(m);
    raw.exec(`CREATE TABLE from_the_future (x); PRAGMA user_version = ${MIGRATIONS.length + 1};`);
    raw.close();
    return file;
  };

  c.fault('a DB whose schema is newer than ours: clear error, read-write and read-only, and not a byte changed', () => {
    const file = newer();
    const hash = sha256File(file);
    for (const readonly of [false, true]) {
      let caught: unknown;
      try {
        openDb(file, { readonly }).close();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(UsageError);
      expect((caught as UsageError).oneLine()).toBe(`${file}: database schema version ${MIGRATIONS.length + 1} is newer than this clip-bench understands (${MIGRATIONS.length}) — upgrade clip-bench`);
    }
    expect(sha256File(file)).toBe(hash);
  });

  c.fault('a newer DB through `clip-bench eval`: one line, exit 2, file unchanged', async () => {
    const file = newer();
    const hash = sha256File(file);
    for (const args of [evalArgs(file)]) {
      const r = await startCli(args).done;
      expect(r.code).toBe(2);
      expect(lines(r.stderr)).toEqual([`clip-bench: ${file}: database schema version ${MIGRATIONS.length + 1} is newer than this clip-bench understands (${MIGRATIONS.length}) — upgrade clip-bench`]);
    }
    expect(sha256File(file)).toBe(hash);
  });
});

describe('files that are not a usable database', () => {
  c.fault('a file that is not SQLite (header overwritten): one line naming it, exit 2, file unchanged', async () => {
    const file = path.join(tmp, 'not-a-db.sqlite');
    const db = openDb(file);
    createRun(db, identity());
    db.close();
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from('this is not the SQLite header!!'), 0, 31, 0);
    closeSync(fd);
    const hash = sha256File(file);
    expect(() => openDb(file)).toThrow(UsageError);
    expect(() => openDb(file, { readonly: true })).toThrow(/not a clip-bench results database/);
    for (const args of [['report', '--db', file]]) {
      const r = await startCli(args).done;
      expect(r.code).toBe(2);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toBe(`clip-bench: ${file}: not a clip-bench results database: the file is not SQLite (or is encrypted or damaged) — pass --db with a results database, or with a new file name to start one\n`);
    }
    expect(sha256File(file)).toBe(hash);
  });

  const damaged = async () => {
    const file = path.join(tmp, 'damaged.sqlite');
    if (existsSync(file)) return file;
    const db = openDb(file);
    await runZeroShot(db, opts());
    db.close();
    // garbage over the second page (a table's b-tree): the header is fine, the first read of that table fails
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 4096);
    closeSync(fd);
    return file;
  };

  c.fault('a DB with a damaged page: the SQLITE_CORRUPT that surfaces is one clear line through dbUsageError', async () => {
    const file = await damaged();
    const db = openDb(file, { readonly: true });
    let caught: unknown;
    try {
      listRuns(db);
    } catch (e) {
      caught = e;
    } finally {
      db.close();
    }
    expect((caught as { code?: string }).code).toBe('SQLITE_CORRUPT');
    expect(dbUsageError(caught, file)?.oneLine()).toBe(
      `${file}: the results database is corrupt (database disk image is malformed) — restore it from a copy, or pass --db with a new file (\`sqlite3 FILE .recover\` may save its runs)`,
    );
  });

  c.fault('`clip-bench report` on a DB with a damaged page: one clear line, exit 2 — not an internal error (needs src/cli/cli.ts to map DB errors)', async () => {
    const file = await damaged();
    const r = await startCli(['report', '--db', file]).done;
    expect(lines(r.stderr), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/^clip-bench: .*the results database is corrupt/);
    expect(r.code).toBe(2);
  });

  c.fault('--db inside a path that is a file: one line, exit 2 (not an internal error)', () => {
    const file = path.join(tmp, 'plain-file');
    writeFileSync(file, 'x');
    const r = cli(['eval', '--model', demo.model, '--dataset', 'imagefolder', '--root', demo.root, '--db', path.join(file, 'r.sqlite'), '--quiet']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([`clip-bench: ${path.join(file, 'r.sqlite')}: cannot create the results database: ${file} is not a folder — pass --db with a path in a writable folder`]);
  });
});

describe('read-only database', () => {
  const seeded = async (name: string) => {
    const file = path.join(tmp, name);
    const db = openDb(file);
    const r = await runZeroShot(db, opts({ limit: 8 }));
    db.close();
    return { file, runId: r.runId };
  };

  c.fault('a write through a read-only connection fails as SQLITE_READONLY, which dbUsageError makes one clear line; DB intact', async () => {
    const { file, runId } = await seeded('ro-connection.sqlite');
    const hash = sha256File(file);
    const db = openDb(file, { readonly: true });
    let caught: unknown;
    try {
      createRun(db, identity());
    } catch (e) {
      caught = e;
    }
    db.close();
    expect((caught as { code?: string }).code).toBe('SQLITE_READONLY');
    const shown = dbUsageError(caught, file)!;
    expect(shown).toBeInstanceOf(UsageError);
    expect(shown.oneLine()).toBe(`${file}: the results database is read-only (attempt to write a readonly database) — make the file and its folder writable, or pass --db with a writable path`);
    expect(sha256File(file)).toBe(hash);
    expect(integrity(file)).toBe('ok');
    expect(countRows(file, 'predictions', `WHERE run_id = ${runId}`)).toBe(8);
  });

  // As root chmod does not stop our writes: there the CLI runs as nobody (owning the DB), for whom it does.
  const asUser = permissionsIgnored ? asNobody : [];
  const noUser = 'running as root without setpriv (or nobody cannot reach the build): chmod does not stop our writes';
  c.faultIf(asUser !== undefined, noUser, 'a chmod 0444 DB file: `clip-bench eval` says so in one line, exit 2, DB unchanged', async () => {
    const { file } = await seeded('ro-file.sqlite');
    if (permissionsIgnored) giveToNobody(file);
    chmodSync(file, 0o444);
    const hash = sha256File(file);
    const r = await startCli(evalArgs(file), { as: asUser }).done;
    chmodSync(file, 0o644);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([`clip-bench: ${file}: the results database is read-only: its file is not writable — make the file and its folder writable, or pass --db with a writable path`]);
    expect(sha256File(file)).toBe(hash);
  });

  c.faultIf(asUser !== undefined, noUser, 'a DB in a read-only folder: one line, exit 2, DB unchanged', async () => {
    const dir = path.join(tmp, 'ro-dir');
    mkdirSync(dir);
    const { file } = await seeded(path.join('ro-dir', 'r.sqlite'));
    if (permissionsIgnored) giveToNobody(file);
    chmodSync(dir, 0o555);
    const hash = sha256File(file);
    const r = await startCli(evalArgs(file), { as: asUser }).done;
    chmodSync(dir, 0o755);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/the results database is read-only: its folder is not writable/);
    expect(sha256File(file)).toBe(hash);
  });

  c.fault('`clip-bench eval` whose DB turns out read-only at the first write: one clear line, exit 2 (needs the evaluator to call dbUsageError)', async () => {
    const { file } = await seeded('ro-cli.sqlite');
    const hash = sha256File(file);
    inject.mode = 'readonly';
    let r;
    try {
      r = await mainInProcess(evalArgs(file, ['--limit', '16']));
    } finally {
      inject.mode = undefined;
    }
    expect(sha256File(file)).toBe(hash);
    expect(lines(r.stderr), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/the results database is read-only/);
    expect(r.code).toBe(2);
  });
});

describe('full disk', () => {
  c.fault('SQLITE_FULL mid-run: earlier runs and whole batches kept, integrity ok, a clear one-line UsageError, and the rerun loses nothing', async () => {
    const file = path.join(tmp, 'full.sqlite');
    const reference = openDb(':memory:');
    const whole = await runZeroShot(reference, opts());
    const db = openDb(file);
    // the caches on: the first run stores every prompt's embedding, so the next writes only predictions and image embeddings
    const earlier = await runZeroShot(db, opts({ limit: 8, cache: true }));
    let caught: unknown;
    let capped = false;
    try {
      await runZeroShot(db, opts({ batchSize: 2, cache: true }), (p) => {
        // after the first batch is stored, no page beyond the current size: the next write that needs a page fails
        if (p.stage === 'images' && !capped) {
          db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
          capped = true;
        }
      });
    } catch (e) {
      caught = e;
    }
    db.close();
    expect((caught as { code?: string })?.code, String(caught)).toBe('SQLITE_FULL');
    const shown = dbUsageError(caught, file)!;
    expect(shown).toBeInstanceOf(UsageError);
    expect(shown.oneLine()).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: database or disk is full — free disk space \\(or pass --db on a disk with room\\) and run the same command again: finished samples are saved and the run continues$`));
    expect(shown.oneLine()).not.toContain('\n');

    expect(integrity(file)).toBe('ok');
    const after = openDb(file);
    const runs = listRuns(after);
    expect(runs.map((r) => [r.id, r.status])).toEqual([
      [earlier.runId, 'finished'],
      [earlier.runId + 1, 'failed'],
    ]);
    expect([...iteratePredictions(after, earlier.runId)]).toHaveLength(8);
    const partial = [...iteratePredictions(after, earlier.runId + 1)];
    expect(partial.length % 2, 'a batch was written in part').toBe(0);
    expect(partial.length).toBeGreaterThanOrEqual(2);
    expect(partial.length).toBeLessThan(TOTAL);
    // with room again, the same command continues the failed run to exactly the uninterrupted result
    const resumed = await runZeroShot(after, opts({ batchSize: 2, cache: true }));
    expect(resumed).toMatchObject({ runId: earlier.runId + 1, resumed: true, n: TOTAL, top1: whole.top1 });
    expect([...iteratePredictions(after, resumed.runId)]).toEqual([...iteratePredictions(reference, whole.runId)]);
    after.close();
  });

  c.fault('`clip-bench eval` on a full disk: one clear line ("database or disk is full" and the fix), exit 2 — not an internal error (needs the evaluator to call dbUsageError)', async () => {
    const file = path.join(tmp, 'full-cli.sqlite');
    const seed = openDb(file);
    await runZeroShot(seed, opts({ limit: 8 }));
    seed.close();
    inject.mode = 'full';
    let r;
    try {
      r = await mainInProcess(evalArgs(file));
    } finally {
      inject.mode = undefined;
    }
    expect(integrity(file)).toBe('ok');
    expect(countRows(file, 'predictions', 'WHERE run_id = 1')).toBe(8);
    expect(lines(r.stderr), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/^clip-bench: .*full-cli\.sqlite: database or disk is full — free disk space/);
    expect(r.code).toBe(2);
  });
});

