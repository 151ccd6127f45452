/** What a result was computed with: versions of clip-bench and its numeric dependencies, and the git commit. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../paths.js';

function packageVersion(name: string): string | null {
  try {
    const require = createRequire(path.join(packageRoot, 'package.json'));
    let dir = path.dirname(require.resolve(name));
    while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

/**
 * The commit checked out in clip-bench's own folder, read from .git without running git. `.git` may be a
 * file pointing elsewhere (`gitdir: …`: a worktree or a submodule), whose branches live in the common dir.
 */
export function gitCommit(root = packageRoot): string | null {
  try {
    let gitDir = path.join(root, '.git');
    if (statSync(gitDir).isFile()) gitDir = path.resolve(root, readFileSync(gitDir, 'utf8').replace(/^gitdir:\s*/, '').trim());
    const commonFile = path.join(gitDir, 'commondir');
    const common = existsSync(commonFile) ? path.resolve(gitDir, readFileSync(commonFile, 'utf8').trim()) : gitDir;
    const head = readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head;
    const ref = head.slice(5);
    for (const dir of [gitDir, common]) if (existsSync(path.join(dir, ref))) return readFileSync(path.join(dir, ref), 'utf8').trim();
    const packed = readFileSync(path.join(common, 'packed-refs'), 'utf8');
    return packed.split('\n').find((l) => l.endsWith(` ${ref}`))?.split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

export interface Environment {
  clipBench: string;
  gitCommit: string | null;
  node: string;
  onnxruntime: string | null;
  sharp: string | null;
  platform: string;
  cpus: number;
  cpuModel: string;
}

export function environment(): Environment {
  const own = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return {
    clipBench: own.version,
    gitCommit: gitCommit(),
    node: process.version,
    onnxruntime: packageVersion('onnxruntime-node'),
    sharp: packageVersion('sharp'),
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
  };
}
