/**
 * Finding shard DBs on a shared volume and waiting for them: a fan-out's merge step may start before its
 * shards end (`kubectl apply` starts every Job at once), so `merge --wait N` polls until N shard DBs are
 * complete. A shard DB is complete when it opens and holds a finished shard run; a pod copies its DB to the
 * volume under a temporary name and renames it, so a half-copied file is never taken for one.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { openDb } from './db.js';
import { listRuns } from './runs.js';

/** The DB files that `paths` name: a file as given, a folder as the `*.sqlite` files in it (sorted); `into` left out. */
export function shardDbFiles(paths: readonly string[], into: string): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let dir = false;
    try {
      dir = statSync(p).isDirectory();
    } catch {
      // a file not there (yet): merge says so, or --wait waits for it
    }
    if (dir) out.push(...readdirSync(p).filter((f) => f.endsWith('.sqlite')).sort().map((f) => path.join(p, f)));
    else out.push(p);
  }
  const skip = path.resolve(into);
  return [...new Set(out)].filter((f) => path.resolve(f) !== skip);
}

/** Shard labels ("i/n") of the finished shard runs in `file`; null when it cannot be read as a results DB (yet). */
export function finishedShardLabels(file: string): string[] | null {
  let db;
  try {
    db = openDb(file, { readonly: true });
  } catch {
    return null;
  }
  try {
    return listRuns(db, { status: 'finished' }).flatMap((r) => (r.shard ? [r.shard] : []));
  } catch {
    return null;
  } finally {
    db.close();
  }
}

export interface ShardWaitState {
  complete: string[];
  pending: string[];
  ready: boolean;
}

/** Pure: which files are complete (a finished shard run inside), and whether `count` of them are. */
export function shardWaitState(probed: readonly { file: string; labels: string[] | null }[], count: number): ShardWaitState {
  const complete = probed.filter((p) => p.labels !== null && p.labels.length > 0).map((p) => p.file);
  const pending = probed.filter((p) => !complete.includes(p.file)).map((p) => p.file);
  return { complete, pending, ready: complete.length >= count };
}

export interface WaitOptions {
  paths: readonly string[];
  into: string;
  count: number;
  timeoutMs: number;
  pollMs: number;
  /** injected for tests; default: the clock and a timer */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  probe?: (file: string) => string[] | null;
  /** told after each poll that is not yet ready */
  onPoll?: (s: ShardWaitState) => void;
}

/**
 * Polls until `count` complete shard DBs are found under `paths`; returns them. Past `timeoutMs`, a one-line
 * error saying how many are complete and which files are there but unfinished (exit code 1: nothing was wrong
 * with the input, the shards did not finish in time).
 */
export async function waitForShardDbs(o: WaitOptions): Promise<string[]> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const probe = o.probe ?? finishedShardLabels;
  const deadline = now() + o.timeoutMs;
  for (;;) {
    const s = shardWaitState(shardDbFiles(o.paths, o.into).map((file) => ({ file, labels: probe(file) })), o.count);
    if (s.ready) return s.complete;
    if (now() >= deadline) {
      const there = s.pending.length ? `; there but unfinished or unreadable: ${s.pending.join(', ')}` : '';
      throw new UsageError(`after ${Math.round(o.timeoutMs / 1000)} s, ${s.complete.length} of ${o.count} shard DBs are complete${there}`, {
        file: o.paths.join(', '),
        fix: 'see why the shards have not finished (`kubectl get pods -l step=shards`), or raise --wait-timeout',
        exitCode: 1,
      });
    }
    o.onPoll?.(s);
    await sleep(Math.max(0, Math.min(o.pollMs, deadline - now())));
  }
}
