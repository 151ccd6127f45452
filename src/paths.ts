import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (or installed package) root: the folder holding package.json, found from this file. */
export const packageRoot: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('clip-bench: cannot find package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
})();

/** Where canonical-pipeline reference data lives (`../shared/reference` beside the checkout), or the env override. */
export const referenceDir: string = process.env.CLIP_BENCH_REFERENCE ?? path.resolve(packageRoot, '..', 'shared', 'reference');

/**
 * URL of a worker script that works both from compiled `dist/` and from `src/` under vitest:
 * from `src/x/y.ts` it points at the compiled `dist/src/x/<name>.js` (built by `npm run build`).
 */
export function workerUrl(callerUrl: string, name: string): URL {
  const callerPath = fileURLToPath(callerUrl);
  const rel = path.relative(packageRoot, path.dirname(callerPath));
  const fromDist = rel.split(path.sep)[0] === 'dist';
  const dir = fromDist ? path.dirname(callerPath) : path.join(packageRoot, 'dist', rel);
  return new URL(`file://${path.join(dir, name.replace(/\.ts$/, '.js'))}`);
}

/**
 * clip-bench's own cache folder for small derived files that are safe to lose (fingerprint memos):
 * `$CLIP_BENCH_CACHE_DIR`, else `$XDG_CACHE_HOME/clip-bench`, else `~/.cache/clip-bench`.
 */
export function userCacheDir(): string {
  if (process.env.CLIP_BENCH_CACHE_DIR) return process.env.CLIP_BENCH_CACHE_DIR;
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'clip-bench');
}
