/**
 * The results database (SQLite via better-sqlite3): WAL journal, a busy timeout so two processes can
 * share it, and versioned migrations tracked in `PRAGMA user_version`. better-sqlite3 is loaded lazily so
 * that commands which never touch the DB do not need the native addon.
 */
import { mkdirSync } from 'node:fs';
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

/** Opens (creating if needed) the DB at `file` and brings its schema up to date. */
export function openDb(file: string, opts: { readonly?: boolean } = {}): Db {
  const Driver = loadDriver();
  if (!opts.readonly) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let db: Db;
  try {
    db = new Driver(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw new UsageError(`cannot open results database: ${(err as Error).message}`, {
      file,
      fix: opts.readonly ? 'pass --db with an existing database, or run `clip-bench eval` first' : 'check the path and its permissions',
      cause: err,
    });
  }
  db.pragma('busy_timeout = 10000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db, file);
  } else {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) throw newerSchema(file, version);
  }
  db.pragma('foreign_keys = ON');
  return db;
}

function newerSchema(file: string, version: number): UsageError {
  return new UsageError(`database schema version ${version} is newer than this clip-bench understands (${MIGRATIONS.length})`, { file, fix: 'upgrade clip-bench' });
}

/** Applies the migrations the DB has not seen, each in its own transaction. */
export function migrate(db: Db, file = ':memory:'): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) throw newerSchema(file, current);
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
