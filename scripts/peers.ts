/**
 * `npm run bench:peer`: clip-bench beside its peers in one run, each in a process of its own so that one's
 * threads and caches do not colour the next: transformers.js on the same ViT-B/32 and JPEGs
 * (peer-transformers), then the PyTorch reference pipeline for ViT-B/32 and the tiny model (peer-pytorch)
 * where Debian's torch is installed. Each prints its ratio beside its goal.
 *
 *   npm run build && npm run bench:peer
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
let failed = 0;
const run = (script: string, args: string[] = []) => {
  console.log(`\n== ${script.replace(/\.js$/, '')} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [path.join(here, script), ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
};
run('peer-transformers.js');
if (spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision, PIL'], { stdio: 'ignore' }).status === 0) {
  for (const arch of ['vit-b-32', 'tiny']) run('peer-pytorch.js', ['--arch', arch]);
} else console.log('\n== peer-pytorch: skipped, /usr/bin/python3 has no torch (apt-get install python3-torch python3-torchvision python3-pil libopenblas0-pthread)');
process.exitCode = failed ? 1 : 0;
