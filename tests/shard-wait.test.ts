/**
 * `merge --wait N`: the merge step of a fan-out waits until N shard DBs are complete. The waiting logic runs
 * on a fake clock and fake probes here (how many polls, how long each sleep, when it gives up); the real
 * probe and the CLI's timeout line run on real files. tests/faults/fanout.test.ts runs it against real shards.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkMergeArgs } from '../src/cli/merge.js';
import { UsageError } from '../src/errors.js';
import { openDb } from '../src/store/db.js';
import { finishedShardLabels, shardDbFiles, shardWaitState, waitForShardDbs } from '../src/store/shard-files.js';
import { packageRoot } from '../src/paths.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'clip-bench-shard-wait-'));

describe('shardWaitState', () => {
  it.each([
    [[], 1, [], [], false],
    [[{ file: 'a', labels: ['0/2'] }, { file: 'b', labels: null }], 2, ['a'], ['b'], false],
    [[{ file: 'a', labels: ['0/2'] }, { file: 'b', labels: [] }], 2, ['a'], ['b'], false], // a DB with no finished shard run yet
    [[{ file: 'a', labels: ['0/2'] }, { file: 'b', labels: ['1/2'] }], 2, ['a', 'b'], [], true],
    [[{ file: 'a', labels: ['0/2'] }, { file: 'b', labels: ['1/2'] }, { file: 'c', labels: ['1/2'] }], 2, ['a', 'b', 'c'], [], true],
  ] as const)('%j of %i: complete %j, pending %j, ready %s', (probed, count, complete, pending, ready) => {
    expect(shardWaitState(probed as never, count)).toEqual({ complete, pending, ready });
  });
});

describe('waitForShardDbs on a fake clock', () => {
  /** A folder whose files appear over time: `schedule[k]` is the set of complete files at poll k. */
  function fake(dir: string, schedule: string[][], files: string[]) {
    for (const f of files) writeFileSync(path.join(dir, f), '');
    let t = 0;
    let poll = 0;
    const sleeps: number[] = [];
    return {
      sleeps,
      polls: () => poll,
      now: () => t,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        t += ms;
      },
      probe: (file: string) => {
        const k = Math.min(poll, schedule.length - 1);
        const done = schedule[k].includes(path.basename(file));
        if (path.basename(file) === files.at(-1)) poll++; // one poll probes every file once
        return done ? ['0/3'] : null;
      },
    };
  }

  it('polls until N files are complete, sleeping the poll interval between looks, and returns the complete ones', async () => {
    const dir = tmp();
    const f = fake(dir, [[], ['a.sqlite'], ['a.sqlite', 'c.sqlite'], ['a.sqlite', 'b.sqlite', 'c.sqlite']], ['a.sqlite', 'b.sqlite', 'c.sqlite']);
    const got = await waitForShardDbs({ paths: [dir], into: path.join(dir, 'merged.sqlite'), count: 3, timeoutMs: 60_000, pollMs: 5_000, ...f });
    expect(got).toEqual(['a.sqlite', 'b.sqlite', 'c.sqlite'].map((x) => path.join(dir, x)));
    expect(f.polls()).toBe(4); // ready at the fourth look
    expect(f.sleeps).toEqual([5_000, 5_000, 5_000]);
  });

  it('gives up at the deadline with one line: how many are complete, which files are there unfinished, exit code 1', async () => {
    const dir = tmp();
    const f = fake(dir, [['a.sqlite']], ['a.sqlite', 'b.sqlite']);
    const err = await waitForShardDbs({ paths: [dir], into: path.join(dir, 'm.sqlite'), count: 2, timeoutMs: 12_000, pollMs: 5_000, ...f }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    const u = err as UsageError;
    expect(u.exitCode).toBe(1);
    expect(u.message).toBe(`after 12 s, 1 of 2 shard DBs are complete; there but unfinished or unreadable: ${path.join(dir, 'b.sqlite')}`);
    // 5 + 5 + the 2 s left: the last look is at the deadline, not past it
    expect(f.sleeps).toEqual([5_000, 5_000, 2_000]);
    expect(f.polls()).toBe(4);
  });

  it('counts files that appear while it waits (a folder is listed again at each look)', async () => {
    const dir = tmp();
    let t = 0;
    const got = await waitForShardDbs({
      paths: [dir],
      into: path.join(dir, 'm.sqlite'),
      count: 2,
      timeoutMs: 100_000,
      pollMs: 1_000,
      now: () => t,
      sleep: async (ms) => {
        t += ms;
        if (t === 2_000) writeFileSync(path.join(dir, 'shard-0.sqlite'), '');
        if (t === 3_000) writeFileSync(path.join(dir, 'shard-1.sqlite'), '');
      },
      probe: () => ['0/2'],
    });
    expect(got.map((f) => path.basename(f))).toEqual(['shard-0.sqlite', 'shard-1.sqlite']);
    expect(t).toBe(3_000);
  });
});

describe('shard DB files', () => {
  it('a folder stands for its *.sqlite files, sorted, without the --into file or a temporary copy', () => {
    const dir = tmp();
    for (const f of ['shard-1.sqlite', 'shard-0.sqlite', 'merged.sqlite', 'shard-2.sqlite.tmp.42', 'shard-0.sqlite-wal', 'notes.txt']) writeFileSync(path.join(dir, f), '');
    expect(shardDbFiles([dir, '/elsewhere/x.sqlite'], path.join(dir, 'merged.sqlite'))).toEqual([path.join(dir, 'shard-0.sqlite'), path.join(dir, 'shard-1.sqlite'), '/elsewhere/x.sqlite']);
  });

  it('a missing file, a file that is not SQLite, and a DB without a finished shard run are not complete', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'junk.sqlite'), 'not a database, a half-written copy perhaps'.repeat(200));
    openDb(path.join(dir, 'empty.sqlite')).close();
    expect(finishedShardLabels(path.join(dir, 'missing.sqlite'))).toBeNull();
    expect(finishedShardLabels(path.join(dir, 'junk.sqlite'))).toBeNull();
    expect(finishedShardLabels(path.join(dir, 'empty.sqlite'))).toEqual([]);
  });
});

describe('merge --wait flags', () => {
  it.each([
    [{ wait: 8 }, null],
    [{ wait: 0 }, '--wait takes the number of shard DBs to wait for, got 0'],
    [{ wait: 2.5 }, '--wait takes the number of shard DBs to wait for, got 2.5'],
    [{ 'wait-timeout': 0 }, '--wait-timeout must be a positive number of seconds, got 0'],
    [{ 'wait-poll': -1 }, '--wait-poll must be a positive number of seconds, got -1'],
    [{ 'wait-poll': 0.5 }, null],
  ] as const)('%j → %s', (args, problem) => {
    expect(checkMergeArgs(args)).toBe(problem);
  });

  const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
  it.skipIf(!existsSync(bin))('the CLI: past --wait-timeout, one line on stderr, exit 1, no --into file', () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'shards'));
    openDb(path.join(dir, 'shards', 'shard-0.sqlite')).close(); // there, but no finished shard run
    const into = path.join(dir, 'merged.sqlite');
    const r = spawnSync(process.execPath, [bin, 'merge', path.join(dir, 'shards'), '--wait', '2', '--wait-timeout', '1', '--wait-poll', '0.3', '--into', into], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toBe(
      `clip-bench: ${path.join(dir, 'shards')}: after 1 s, 0 of 2 shard DBs are complete; there but unfinished or unreadable: ${path.join(dir, 'shards', 'shard-0.sqlite')} — see why the shards have not finished (\`kubectl get pods -l step=shards\`), or raise --wait-timeout`,
    );
    expect(lines.slice(0, -1).every((l) => l === 'clip-bench merge: 0 of 2 shard DBs complete, waiting')).toBe(true);
    expect(existsSync(into)).toBe(false);
  }, 30_000);
});
