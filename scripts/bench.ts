/**
 * `npm run bench`: every benchmark in turn, each in its own process so one's threads and caches do not
 * colour the next. Figures belong in the README with this command.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const benches = ['bench-tokenizer.js', 'bench-preprocess.js', 'bench-engine.js', 'bench-retrieval.js'];
let failed = 0;
for (const b of benches) {
  const file = path.join(here, b);
  if (!existsSync(file)) continue;
  console.log(`\n== ${b.replace(/\.js$/, '')}`);
  const r = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
