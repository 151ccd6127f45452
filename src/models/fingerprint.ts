/**
 * A model's identity: sha256 over exactly the files it uses (relative path and bytes, in sorted order).
 *
 * Hashing ViT-B/32's 600 MB takes ~0.8 s, so the result is memoised in the user's cache folder under a
 * key of every file's path, size, inode and modification and change times to the nanosecond. The change
 * time (ctime) cannot be set from user space and moves on any write, rename or `touch`, so a file
 * rewritten in place — even with its old mtime put back — gets a new key and is hashed again. A memo that
 * cannot be read or written (a read-only home) is skipped: it only saves time.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { userCacheDir } from '../paths.js';

export interface FingerprintOptions {
  /** reuse (and store) the memo (default true) */
  memo?: boolean;
}

/** The memo's key: the files' absolute paths and stat identity, in sorted order. */
export function fingerprintMemoKey(dir: string, files: readonly string[]): string {
  const stamp = [...files].sort().map((rel) => {
    const file = path.resolve(dir, rel);
    const s = statSync(file, { bigint: true });
    return [file, String(s.size), String(s.dev), String(s.ino), String(s.mtimeNs), String(s.ctimeNs)];
  });
  return createHash('sha256').update(JSON.stringify(['clip-bench fingerprint v1', stamp])).digest('hex');
}

const memoFile = (key: string) => path.join(userCacheDir(), 'fingerprints', `${key}.sha256`);

export async function fingerprintFiles(dir: string, files: readonly string[], opts: FingerprintOptions = {}): Promise<string> {
  const key = opts.memo === false ? undefined : memoKeyOrUndefined(dir, files);
  if (key) {
    try {
      const memo = readFileSync(memoFile(key), 'utf8').trim();
      if (/^[0-9a-f]{64}$/.test(memo)) return memo;
    } catch {
      // no memo yet
    }
  }
  const hash = createHash('sha256');
  for (const rel of [...files].sort()) {
    hash.update(`${rel.split(path.sep).join('/')}\0`);
    for await (const chunk of createReadStream(path.join(dir, rel))) hash.update(chunk as Buffer);
    hash.update('\0');
  }
  const digest = hash.digest('hex');
  // the files may have changed while they were read: memoise only under the key they still have
  if (key && memoKeyOrUndefined(dir, files) === key) {
    try {
      const file = memoFile(key);
      mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${digest}\n`);
      renameSync(tmp, file); // atomic: concurrent shard processes write the same digest
    } catch {
      // a read-only cache folder: the memo only saves time
    }
  }
  return digest;
}

function memoKeyOrUndefined(dir: string, files: readonly string[]): string | undefined {
  try {
    return fingerprintMemoKey(dir, files);
  } catch {
    return undefined; // a file that cannot be stat'ed fails below with the real reason
  }
}
