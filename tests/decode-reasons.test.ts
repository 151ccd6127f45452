import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/fixtures/random.js';
import { packageRoot } from '../src/paths.js';
import { acquireExclusive, acquireShared, createDecodeLock, releaseExclusive, releaseShared } from '../src/models/preprocess/decode-lock.js';
import { createPreprocessPool, preprocessImage } from '../src/models/preprocess/index.js';
import { writeTiff } from './support/tiff-writer.js';

const workerBuilt = existsSync(path.join(packageRoot, 'dist', 'src', 'models', 'preprocess', 'worker.js'));
if (!workerBuilt) console.warn('decode failure reasons under a pool SKIPPED: worker not compiled — run `npm run build` (npm test does)');

describe('the decode lock (readers–writer over a SharedArrayBuffer)', () => {
  /** Resolves to whether `p` settled within a few event-loop turns. */
  const settled = async (p: Promise<unknown>) => {
    let done = false;
    void p.then(() => (done = true));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    return done;
  };

  it('shared holders run together; the exclusive side waits for all of them, and new readers wait behind a waiting writer', async () => {
    const lock = createDecodeLock();
    await acquireShared(lock);
    await acquireShared(lock);
    const writer = acquireExclusive(lock);
    expect(await settled(writer)).toBe(false);
    const lateReader = acquireShared(lock);
    expect(await settled(lateReader)).toBe(false);
    releaseShared(lock);
    expect(await settled(writer)).toBe(false);
    releaseShared(lock);
    expect(await settled(writer)).toBe(true);
    expect(await settled(lateReader)).toBe(false);
    releaseExclusive(lock);
    expect(await settled(lateReader)).toBe(true);
    releaseShared(lock);
    expect(Array.from(lock)).toEqual([0, 0]);
  });
});

describe.skipIf(!workerBuilt)('failure reasons under concurrent decodes', () => {
  let dir = '';
  const files: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clip-bench-reasons-'));
    const rand = mulberry32(4);
    const add = async (name: string, bytes: Uint8Array) => {
      const f = path.join(dir, name);
      await writeFile(f, bytes);
      files.push(f);
    };
    for (let i = 0; i < 5; i++) {
      const w = 260 + 37 * i;
      const h = 190 + 23 * i;
      const px = Buffer.from(Uint8Array.from({ length: w * h * 3 }, () => Math.floor(rand() * 256)));
      const img = () => sharp(px, { raw: { width: w, height: h, channels: 3 } });
      const encoded: [string, Buffer][] = [
        ['png', await img().png().toBuffer()],
        ['jpg', await img().jpeg().toBuffer()],
        ['webp', await img().webp().toBuffer()],
        ['tif', await img().tiff().toBuffer()],
        ['gif', await img().gif().toBuffer()],
      ];
      for (const [ext, b] of encoded) {
        for (const frac of [0.3, 0.7]) await add(`cut${i}-${frac}.${ext}`, b.subarray(0, Math.floor(b.length * frac)));
        const flipped = Buffer.from(b);
        for (let j = 64; j < flipped.length; j += 89) flipped[j] ^= 0x5a;
        await add(`flipped${i}.${ext}`, flipped);
      }
    }
    await add('garbage.jpg', Buffer.from('not an image at all'));
    await add('empty.png', new Uint8Array(0));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const reasonOf = (e: unknown) => (e instanceof Error ? e.message : 'decoded');

  it('every failed file carries its own reason, the one it gets alone, through 4 workers, five rounds', async () => {
    const alone = new Map<string, string>();
    for (const f of files) alone.set(f, reasonOf(await preprocessImage(f).then(() => null, (e: unknown) => e)));
    const failing = [...alone.values()].filter((r) => r !== 'decoded').length;
    expect(failing).toBeGreaterThan(files.length / 2); // the point is many concurrent failures
    const pool = createPreprocessPool({ threads: 4 });
    const wrong: string[] = [];
    try {
      for (let round = 0; round < 5; round++) {
        const got = await Promise.all(files.map((f) => pool.run(f).then(() => null, (e: unknown) => e)));
        files.forEach((f, i) => {
          const r = reasonOf(got[i]);
          if (r !== alone.get(f)) wrong.push(`round ${round} ${path.basename(f)}: "${r}", alone "${alone.get(f)}"`);
        });
      }
    } finally {
      await pool.close();
    }
    expect(wrong).toEqual([]);
  });
});

describe.skipIf(!workerBuilt)('libvips warnings under concurrent decodes (they go to one process-wide queue too)', () => {
  it("a TIFF whose decode only warns fails with its own warning, and a sound file never gets another file's", async () => {
    const w = 4;
    const h = 4;
    const px = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37 + Math.floor(i / 7) * 11) & 255);
    const tags = { 256: [w], 257: [h], 258: [8, 8, 8], 259: [1], 262: [2], 277: [3], 278: [h] };
    const sound = writeTiff({ tags, chunks: [px] });
    const short = writeTiff({ tags, chunks: [px.subarray(0, 30)] }); // strip shorter than the image: libtiff only warns
    const jpeg = await sharp(Buffer.from(px), { raw: { width: w, height: h, channels: 3 } }).jpeg().toBuffer();
    const inputs: [string, Uint8Array][] = [];
    for (let i = 0; i < 12; i++) inputs.push([`short${i}.tif`, short], [`sound${i}.tif`, sound], [`photo${i}.jpg`, jpeg]);
    const alone = new Map<string, string>();
    for (const [name, bytes] of inputs) alone.set(name, await preprocessImage(bytes, undefined, { name }).then(() => 'decoded', (e: Error) => e.message));
    expect(alone.get('short0.tif')).toMatch(/the decoder warned/);
    expect(alone.get('sound0.tif')).toBe('decoded');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'clip-bench-warnings-'));
    const pool = createPreprocessPool({ threads: 4 });
    const wrong: string[] = [];
    try {
      const files = await Promise.all(inputs.map(async ([name, bytes]) => (await writeFile(path.join(dir, name), bytes), path.join(dir, name))));
      const aloneByFile = new Map<string, string>();
      for (const f of files) aloneByFile.set(f, await preprocessImage(f).then(() => 'decoded', (e: Error) => e.message));
      for (let round = 0; round < 5; round++) {
        const got = await Promise.all(files.map((f) => pool.run(f).then(() => 'decoded', (e: Error) => e.message)));
        files.forEach((f, i) => {
          if (got[i] !== aloneByFile.get(f)) wrong.push(`round ${round} ${path.basename(f)}: "${got[i]}", alone "${aloneByFile.get(f)}"`);
        });
      }
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
    expect(wrong).toEqual([]);
  });
});
