/**
 * Shared pieces of the fault-injection suites (`tests/faults/*.test.ts`): case counting with the
 * one-line summary each file prints, temp folders, the built CLI run as a user runs it, and small
 * read-only looks into a results DB.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { afterAll, it } from 'vitest';
import { packageRoot } from '../../../src/paths.js';

export const BIN = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');

/** Fails early, with the fix, when the CLI (and the preprocessing worker it needs) is not built. */
export function requireBuilt(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
}

const created: string[] = [];

/** A fresh temp folder, removed when the file's cases are done (kept with FAULTS_KEEP_TMP=1, to look at). */
export function tmpDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `clip-bench-faults-${prefix}-`));
  created.push(dir);
  return dir;
}

/**
 * Counts the cases of one category and prints `faults/<category>: N cases tried, N passed` when the
 * file is done. `fault(...)` is `it(...)` that counts; `knownBug(...)` is `it.fails(...)` that counts as
 * tried and not passed (a real bug elsewhere, reported, waiting for its fix; `FAULTS_KNOWN_BUGS=show` runs
 * them as plain tests to see the failure); `tally` adds the cases of a
 * loop (fuzzing), whose own assertion must still fail the test if any of them did.
 */
export function faultCategory(category: string) {
  let tried = 0;
  let passed = 0;
  let bugs = 0;
  afterAll(() => {
    console.log(`faults/${category}: ${tried} cases tried, ${passed} passed${bugs ? ` (${bugs} known bugs, marked it.fails)` : ''}`);
    if (process.env.FAULTS_KEEP_TMP !== '1') for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const counted = (fn: () => unknown) => async () => {
    tried++;
    await fn();
    passed++;
  };
  return {
    fault(name: string, fn: () => unknown, timeout?: number) {
      it(name, counted(fn), timeout);
    },
    /** Skipped cases print their reason and are not counted. */
    faultIf(condition: boolean, skipNote: string, name: string, fn: () => unknown, timeout?: number) {
      if (condition) it(name, counted(fn), timeout);
      else it.skip(`${name} — skipped: ${skipNote}`, () => undefined);
    },
    knownBug(name: string, fn: () => unknown, timeout?: number) {
      // FAULTS_KNOWN_BUGS=show runs these as plain tests, to see today's failure (or that a fix landed)
      const runner = process.env.FAULTS_KNOWN_BUGS === 'show' ? it : it.fails;
      runner(`${name} [known bug, see the faults report]`, async () => {
        tried++;
        bugs++;
        await fn();
        bugs--;
        passed++;
      }, timeout);
    },
    /** A test that runs many fuzz inputs: not a case itself, its inputs are (it calls `tally`). */
    fuzz(name: string, fn: () => unknown, timeout?: number) {
      it(name, fn, timeout);
    },
    tally(n: number, ok: number) {
      tried += n;
      passed += ok;
    },
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to completion (bounded by `timeoutMs`). */
export function cli(args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The built CLI as a child process, its output collected; `done` settles when it exits. */
export function startCli(args: readonly string[], opts: { cwd?: string; as?: readonly string[] } = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const [cmd, ...pre] = [...(opts.as ?? []), process.execPath];
  const child = spawn(cmd, [...pre, BIN, ...args], { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** stderr's non-empty lines. */
export const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const Driver = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

/** A raw read-only connection (no migration, no pragmas): to look at a DB without changing it. */
export function peekDb(file: string): BetterSqlite3.Database {
  return new Driver(file, { readonly: true, fileMustExist: true });
}

/** A raw read-write connection without clip-bench's migrations: to build DBs in old shapes. */
export function rawDb(file: string): BetterSqlite3.Database {
  return new Driver(file);
}

/** `SELECT count(*) FROM table` through a short-lived read-only connection; 0 while the DB or table does not exist yet. */
export function countRows(file: string, table: 'runs' | 'predictions', where = ''): number {
  if (!existsSync(file)) return 0;
  let db: BetterSqlite3.Database | undefined;
  try {
    db = peekDb(file);
    return db.prepare(`SELECT count(*) FROM ${table} ${where}`).pluck().get() as number;
  } catch {
    return 0; // not created or not migrated yet, or a writer holds the WAL index being rebuilt: ask again
  } finally {
    db?.close();
  }
}

/** Polls `probe` every `everyMs` until it returns true, for at most `timeoutMs`; returns whether it did. */
export async function waitFor(probe: () => boolean, timeoutMs: number, everyMs = 10): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (probe()) return true;
    await sleep(everyMs);
  }
  return probe();
}

/**
 * Whether this process can ignore file permissions (root, CAP_DAC_OVERRIDE): then chmod cannot make a
 * file unreadable or read-only for us, and the cases that rely on it are skipped with a note.
 */
export const permissionsIgnored: boolean = (() => {
  const dir = tmpDir('perm');
  const f = path.join(dir, 'probe');
  try {
    writeFileSync(f, 'x');
    chmodSync(f, 0o000);
    try {
      closeSync(openSync(f, 'r+'));
      return true;
    } catch {
      return false;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

/** uid and gid of `nobody`. */
export const NOBODY = 65534;

/**
 * As root (CI runs as root) chmod does not bind us, so the permission cases run the CLI as `nobody`,
 * through util-linux's `setpriv`, for whom it does. The command prefix, or undefined where that is not
 * possible: not root, no setpriv, or nobody cannot reach the built CLI (a checkout under a private folder).
 */
export const asNobody: readonly string[] | undefined = (() => {
  const setpriv = '/usr/bin/setpriv';
  if (!permissionsIgnored || process.getuid?.() !== 0 || !existsSync(setpriv)) return undefined;
  const prefix = [setpriv, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
  const ok = (cmd: string[]) => spawnSync(prefix[0], [...prefix.slice(1), ...cmd], { encoding: 'utf8' }).status === 0;
  return ok([process.execPath, BIN, '--version']) && ok(['test', '-w', os.tmpdir()]) ? prefix : undefined;
})();

/** Lets `nobody` read everything under `dir` (a folder in the temp folder) and write in `dir` itself, as a user's own folder would. */
export function shareWithNobody(dir: string): void {
  const walk = (p: string) => {
    const st = statSync(p);
    chmodSync(p, st.mode | (st.isDirectory() ? 0o555 : 0o444));
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  chmodSync(dir, 0o777);
  // and lets it through the (0700) temp folders above, up to the system's temp folder
  const top = os.tmpdir();
  for (let up = path.dirname(dir); up.startsWith(top + path.sep); up = path.dirname(up)) chmodSync(up, statSync(up).mode | 0o111);
}

/** Hands a DB file (and its -wal/-shm, if any) to `nobody`. */
export function giveToNobody(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chownSync(f, NOBODY, NOBODY);
}

// ---------------------------------------------------------------- PNG building

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function pngChunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function pngIhdr(width: number, height: number, bitDepth: number, colourType: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colourType;
  return pngChunk('IHDR', ihdr);
}
