/**
 * Without the reference data every reference test skips with the same one line naming itself
 * (tests/support/reference.ts), wherever CLIP_BENCH_REFERENCE points; no test reads the folder any other way.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/paths.js';
import { referenceSkipMessage } from './support/reference.js';

const testsDir = path.join(packageRoot, 'tests');
const helper = path.join(testsDir, 'support', 'reference.ts');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? testFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('reference data in the tests', () => {
  it('is reached only through tests/support/reference.ts', () => {
    const offenders = testFiles(testsDir)
      .filter((f) => f !== helper && f !== path.join(testsDir, 'reference-skips.test.ts'))
      .filter((f) => /referenceDir|CLIP_BENCH_REFERENCE|\.\.\/shared|shared\/reference/.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(packageRoot, f));
    expect(offenders).toEqual([]);
  });

  it('every reference test names itself in the one skip line when CLIP_BENCH_REFERENCE points at an empty folder', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-no-reference-'));
    try {
      const files = ['tests/paper-numbers.test.ts', 'tests/prompt-data.test.ts'];
      const r = spawnSync(process.execPath, [path.join(packageRoot, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...files], {
        cwd: packageRoot,
        encoding: 'utf8',
        env: { ...process.env, CLIP_BENCH_REFERENCE: empty, NO_COLOR: '1' },
      });
      const out = r.stdout + r.stderr;
      expect(r.status, out).toBe(0);
      expect(out).toContain(referenceSkipMessage('paper numbers against the reference table', path.join(empty, 'paper-zero-shot.json')));
      expect(out).toContain(referenceSkipMessage('the paper prompt sets against the reference hashes', path.join(empty, 'prompts')));
      expect(out).toMatch(/skipped/);
      expect(out).not.toMatch(/README/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 120_000);
});
