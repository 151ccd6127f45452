/** A model's identity: sha256 over exactly the files it uses (relative path and bytes, in sorted order). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';

export async function fingerprintFiles(dir: string, files: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const rel of [...files].sort()) {
    hash.update(`${rel.split(path.sep).join('/')}\0`);
    for await (const chunk of createReadStream(path.join(dir, rel))) hash.update(chunk as Buffer);
    hash.update('\0');
  }
  return hash.digest('hex');
}
