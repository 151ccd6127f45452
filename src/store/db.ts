/**
 * The results database (SQLite via better-sqlite3): WAL journal, a busy timeout so two processes can
 * share it, and versioned migrations tracked in `PRAGMA user_version`. better-sqlite3 is loaded lazily so
 * that commands which never touch the DB do not need the native addon.
 *
 * Failures of the file itself — a full disk, a read-only file or folder, a file that is not a database —
 * become one-line `UsageError`s naming the file and the fix: `openDb` does it for opening and migrating,
 * and `dbUsageError` / `withDbErrors` do it for the writes that come later.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { UsageError } from '../errors.js';
import { MIGRATIONS } from './schema.js';

export type Db = BetterSqlite3.Database;

export const DEFAULT_DB = path.join('results', 'clip-bench.sqlite');

function loadDriver(): typeof BetterSqlite3 {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  } catch (err) {
    throw new UsageError('cannot load better-sqlite3 (native addon)', { fix: 'run `npm ci` (it builds better-sqlite3 12 for your Node version)', cause: err });
  }
}

const inMemory = (file: string) => file === ':memory:' || file === '';

/**
 * What a SQLite result code means for the user, and what to do about it. Extended codes
 * (`SQLITE_READONLY_DBMOVED`, `SQLITE_IOERR_WRITE`, …) are matched by their primary code.
 */
const DB_ERRORS: Record<string, { what: string; fix: string; detail?: false }> = {
  SQLITE_FULL: {
    what: 'database or disk is full',
    detail: false,
    fix: 'free disk space (or pass --db on a disk with room) and run the same command again: finished samples are saved and the run continues',
  },
  SQLITE_READONLY: {
    what: 'the results database is read-only',
    fix: 'make the file and its folder writable, or pass --db with a writable path',
  },
  SQLITE_CANTOPEN: {
    what: 'cannot open the results database',
    fix: 'check that the folder exists and is writable, or pass --db with another path',
  },
  SQLITE_CORRUPT: {
    what: 'the results database is corrupt',
    fix: 'restore it from a copy, or pass --db with a new file (`sqlite3 FILE .recover` may save its runs)',
  },
  SQLITE_NOTADB: {
    what: 'not a clip-bench results database: the file is not SQLite (or is encrypted or damaged)',
    detail: false,
    fix: 'pass --db with a results database, or with a new file name to start one',
  },
  SQLITE_BUSY: {
    what: 'the results database is locked by another process',
    fix: 'wait for the other clip-bench to finish, and keep --db on a local disk (SQLite WAL does not work on network filesystems)',
  },
  SQLITE_IOERR: {
    what: 'disk I/O error on the results database',
    fix: 'check the disk (space, permissions, a network filesystem), or pass --db with a file on a local disk',
  },
};

/** The primary SQLite result code of a better-sqlite3 error (`SQLITE_IOERR_WRITE` → `SQLITE_IOERR`), or undefined. */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  const primary = Object.keys(DB_ERRORS).find((c) => code === c || code.startsWith(`${c}_`));
  return primary ?? code;
}

/**
 * A better-sqlite3 error about the database file itself (full, read-only, cannot open, corrupt, not a
 * database, locked, I/O error) as a one-line `UsageError` naming `file` and the fix; undefined for any
 * other error, which is left as it is (a constraint failure or an SQL error is a bug, not the user's).
 * A `UsageError` passes through unchanged.
 */
export function dbUsageError(err: unknown, file?: string): UsageError | undefined {
  if (err instanceof UsageError) return err;
  const code = sqliteCode(err);
  const known = code ? DB_ERRORS[code] : undefined;
  if (!known) return undefined;
  // SQLite's own words where they add something ("attempt to write a readonly database", "disk I/O error" variants)
  const detail = known.detail === false ? '' : String((err as Error).message ?? '').trim();
  const message = detail && detail.toLowerCase() !== known.what.toLowerCase() ? `${known.what} (${detail})` : known.what;
  return new UsageError(message, { file: file && !inMemory(file) ? file : undefined, fix: known.fix, cause: err });
}

/** Runs `fn`, rethrowing database-file errors as `dbUsageError` does; anything else is rethrown unchanged. */
export function withDbErrors<T>(file: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw dbUsageError(err, file) ?? err;
  }
}

/** Before opening for writing: the folder exists (created if needed) and, where the OS says so, the file and folder are writable. */
function prepareWritable(file: string): void {
  const dir = path.dirname(path.resolve(file));
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOTDIR' || code === 'EEXIST' ? `${dir} is not a folder` : code === 'EACCES' || code === 'EPERM' ? `cannot create the folder ${dir}: permission denied` : `cannot create the folder ${dir}: ${(err as Error).message}`;
    throw new UsageError(`cannot create the results database: ${why}`, { file, fix: 'pass --db with a path in a writable folder', cause: err });
  }
  if (existsSync(file) && statSync(file).isDirectory()) {
    throw new UsageError('the results database path is a folder', { file, fix: 'pass --db with a file name, e.g. results/clip-bench.sqlite' });
  }
  // A read-only file opens silently read-only and fails at the first write; say so up front. (root passes these checks, and can write.)
  for (const [target, what] of [[file, 'file'], [dir, 'folder']] as const) {
    if (what === 'file' && !existsSync(file)) continue;
    if (what === 'folder' && existsSync(`${file}-wal`) && existsSync(`${file}-shm`)) continue; // journal files already there
    try {
      accessSync(target, constants.W_OK);
    } catch (err) {
      throw new UsageError(`the results database is read-only: its ${what} is not writable${what === 'folder' ? ` (${dir}; SQLite writes its journal beside the file)` : ''}`, {
        file,
        fix: DB_ERRORS.SQLITE_READONLY.fix,
        cause: err,
      });
    }
  }
}

/**
 * `journal_mode = WAL`, retried while another process holds the lock: the switch needs an exclusive lock, and
 * SQLite answers SQLITE_BUSY at once instead of waiting for the busy timeout where waiting could deadlock (several
 * processes creating one DB at the same instant), so the wait is done here, up to the same 10 s.
 */
function switchToWal(db: Db): void {
  const deadline = Date.now() + 10_000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err;
      Atomics.wait(pause, 0, 0, 10 + Math.floor(Math.random() * 40)); // a short, jittered sleep on this thread
    }
  }
}

/** Opens (creating if needed) the DB at `file` and brings its schema up to date. */
export function openDb(file: string, opts: { readonly?: boolean } = {}): Db {
  const Driver = loadDriver();
  const readonly = opts.readonly ?? false;
  if (!readonly && !inMemory(file)) prepareWritable(file);
  let db: Db;
  try {
    db = new Driver(file, { readonly, fileMustExist: readonly });
  } catch (err) {
    throw new UsageError(`cannot open results database: ${(err as Error).message}`, {
      file,
      fix: readonly ? 'pass --db with an existing database, or run `clip-bench eval` first' : 'check the path and its permissions',
      cause: err,
    });
  }
  try {
    db.pragma('busy_timeout = 10000');
    // Read the version first: a file that is not a database fails here, and a newer schema is refused before anything is written.
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) throw newerSchema(file, version);
    if (!readonly) {
      switchToWal(db);
      db.pragma('synchronous = NORMAL');
      migrate(db, file);
    }
    db.pragma('foreign_keys = ON');
  } catch (err) {
    db.close();
    throw dbUsageError(err, file) ?? err;
  }
  return db;
}

function newerSchema(file: string, version: number): UsageError {
  return new UsageError(`database schema version ${version} is newer than this clip-bench understands (${MIGRATIONS.length})`, { file, fix: 'upgrade clip-bench' });
}

/**
 * Applies the migrations the DB has not seen, each in its own `BEGIN IMMEDIATE` transaction that
 * re-reads the version under the write lock: processes opening a new DB at the same moment apply
 * each migration once.
 */
export function migrate(db: Db, file = ':memory:'): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  if (version() > MIGRATIONS.length) throw newerSchema(file, version());
  const step = db.transaction((): boolean => {
    const v = version();
    if (v > MIGRATIONS.length) throw newerSchema(file, v);
    if (v === MIGRATIONS.length) return false;
    db.exec(MIGRATIONS[v]);
    db.pragma(`user_version = ${v + 1}`);
    return true;
  });
  for (let i = 0; i < MIGRATIONS.length && version() < MIGRATIONS.length; i++) step.immediate();
}
