/**
 * npm must not warn on every command (a project .npmrc key npm does not know made every `npx clip-bench`
 * error two lines), and the install must stay offline: onnxruntime-node's postinstall downloads CUDA
 * libraries from api.nuget.org on linux/x64, so package.json's `allowScripts` denies it (npm 11 skips a
 * denied package's install scripts silently; the CPU provider ships inside the package).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/paths.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const built = existsSync(path.join(packageRoot, 'dist', 'src', 'cli', 'main.js'));
if (!built) console.warn('npx clip-bench check SKIPPED: dist/src/cli/main.js not built — run `npm run build`');

describe('npm configuration', () => {
  it('an npm command in the repo prints no warning', () => {
    const r = spawnSync(npm, ['pkg', 'get', 'name'], { cwd: packageRoot, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });

  it.skipIf(!built)('an `npx clip-bench` error is one line', () => {
    const r = spawnSync('npx', ['--offline', 'clip-bench', 'eval', '--limit', 'abc'], { cwd: packageRoot, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['clip-bench: --limit takes a number, got "abc" — `clip-bench eval --help` describes it']);
  });

  it("onnxruntime-node's download script is denied through allowScripts, and it is the only script that needs the network", () => {
    const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
    const ort = JSON.parse(readFileSync(path.join(packageRoot, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    // if the package stops shipping a postinstall, the denial (and this test) can go
    expect(ort.scripts?.postinstall).toMatch(/script\/install/);
    expect(existsSync(path.join(packageRoot, '.npmrc')) ? readFileSync(path.join(packageRoot, '.npmrc'), 'utf8') : '').not.toMatch(/onnxruntime-node-install/);
  });
});
