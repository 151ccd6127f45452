/**
 * `clip-bench preprocess` on many images: OUT/<file name>.f32 each, byte-identical to preprocessing that
 * image alone; a bad image gets its own line and the rest go on (exit code 2); --json prints one line per
 * image. The single-image form (`IMAGE --out FILE`) keeps working.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputPaths } from '../src/cli/preprocess.js';
import { UsageError } from '../src/errors.js';
import { OPENAI_CLIP_CONFIG, preprocessImage } from '../src/models/preprocess/index.js';
import { packageRoot } from '../src/paths.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const built = existsSync(bin);
if (!built) console.warn('preprocess CLI runs SKIPPED: dist/src/cli/main.js not built — run `npm run build`');

let tmp: string;
const images: string[] = [];
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-preprocess-cli-'));
  images.push(path.join(tmp, 'red.png'), path.join(tmp, 'broken.png'), path.join(tmp, 'blue.jpg'));
  await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toFile(images[0]);
  writeFileSync(images[1], 'not an image');
  await sharp({ create: { width: 30, height: 50, channels: 3, background: { r: 0, g: 10, b: 200 } } }).jpeg().toFile(images[2]);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = (args: string[]) => spawnSync(process.execPath, [bin, 'preprocess', ...args], { encoding: 'utf8', cwd: tmp });
const tensorBytes = async (image: string) => {
  const t = await preprocessImage(image, OPENAI_CLIP_CONFIG);
  return Buffer.from(t.buffer, t.byteOffset, t.byteLength);
};

describe('outputPaths', () => {
  it('one file per image in --out-dir, named after the image', () => {
    expect(outputPaths({ images: ['a/x.jpg', 'b/y.png'], 'out-dir': 'out' })).toEqual([path.join('out', 'x.jpg.f32'), path.join('out', 'y.png.f32')]);
    expect(outputPaths({ images: ['x.jpg'], out: 'x.f32' })).toEqual(['x.f32']);
  });
  it.each([
    [{ images: ['a.jpg', 'b.jpg'], out: 'x.f32' }, /--out names one file but 2 images were given/],
    [{ images: ['a.jpg'] }, /say where to write/],
    [{ images: ['a.jpg'], out: 'x', 'out-dir': 'd' }, /exclude each other/],
    [{ images: ['a/x.jpg', 'b/x.jpg'], 'out-dir': 'd' }, /a\/x\.jpg and b\/x\.jpg would both be written to d\/x\.jpg\.f32/],
  ])('%j is refused before anything is written', (a, message) => {
    expect(() => outputPaths(a)).toThrow(UsageError);
    expect(() => outputPaths(a)).toThrow(message);
  });
});

describe.skipIf(!built)('clip-bench preprocess IMAGE...', () => {
  it('writes OUT/<name>.f32 for each good image, names the bad one, goes on, exits 2', async () => {
    const out = path.join(tmp, 'out');
    const r = cli(['--out-dir', out, ...images]);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^clip-bench: ${images[1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot decode image`));
    expect(lines[1]).toBe('clip-bench: 1 of 3 images failed; the others were written — each failure is named above');
    expect(readFileSync(path.join(out, 'red.png.f32')).equals(await tensorBytes(images[0]))).toBe(true);
    expect(readFileSync(path.join(out, 'blue.jpg.f32')).equals(await tensorBytes(images[2]))).toBe(true);
    expect(existsSync(path.join(out, 'broken.png.f32'))).toBe(false);
  });

  it('--json: one line per image, in order, the bad one with its error', () => {
    const r = cli(['--out-dir', path.join(tmp, 'json'), '--json', ...images]);
    expect(r.status).toBe(2);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { image: string; out?: string; shape?: number[]; error?: string });
    expect(rows.map((x) => x.image)).toEqual(images);
    expect(rows[0]).toMatchObject({ out: path.join(tmp, 'json', 'red.png.f32'), shape: [3, 224, 224] });
    expect(rows[1].error).toMatch(/cannot decode image/);
    expect(rows[2].out).toBe(path.join(tmp, 'json', 'blue.jpg.f32'));
  });

  it('the single-image form still works', async () => {
    const out = path.join(tmp, 'one.f32');
    const r = cli([images[0], '--out', out]);
    expect(r.status).toBe(0);
    expect(readFileSync(out).equals(await tensorBytes(images[0]))).toBe(true);
  });
});
