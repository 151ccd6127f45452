/**
 * `npm run bench`: every benchmark in turn, each in its own process so one's threads and caches do not
 * colour the next. Figures belong in the README with this command.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const benches = ['bench-tokenizer.js', 'bench-preprocess.js', 'bench-decoder.js', 'bench-engine.js', 'bench-profile.js', 'bench-retrieval.js'];
let failed = 0;
const run = (b: string, args: string[] = []) => {
  const file = path.join(here, b);
  if (!existsSync(file)) return;
  console.log(`\n== ${b.replace(/\.js$/, '')} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [file, ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
};
for (const b of benches) run(b);
// the peers (transformers.js, and the PyTorch pipeline where Debian's torch is installed), each ratio beside its goal
run('peers.js');
process.exitCode = failed ? 1 : 0;
