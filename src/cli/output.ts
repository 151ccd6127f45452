/** Writing command output: to stdout, or to a file atomically (temp file + rename, never half-written). */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function writeAtomic(file: string, content: string | Uint8Array): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

export function emit(text: string, out?: string): void {
  if (out) writeAtomic(out, text);
  else process.stdout.write(text);
}

/** Whether stdout's reader has gone (a closed pipe): a command that streams stops writing, and cli.ts exits 0. */
export function stdoutClosed(): boolean {
  return process.stdout.destroyed;
}
