import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { byCodePoint, imagefolder } from '../src/datasets/imagefolder.js';
import { getDataset } from '../src/datasets/index.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('imagefolder adapter', () => {
  it('orders classes and files as torchvision does (sorted, recursive, image extensions only)', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-if-'));
    for (const f of ['b/2.jpg', 'b/10.JPG', 'a/z.png', 'a/sub/y.webp', 'a/notes.txt', 'B/x.jpeg']) {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      writeFileSync(path.join(root, f), '');
    }
    expect(await imagefolder.classIds(root)).toEqual(['B', 'a', 'b']);
    const samples = await collect(imagefolder.samples(root));
    expect(samples.map((s) => [s.key, s.label])).toEqual([
      ['B/x.jpeg', 0],
      ['a/sub/y.webp', 1],
      ['a/z.png', 1],
      ['b/10.JPG', 2],
      ['b/2.jpg', 2],
    ]);
  });

  it('lists regular files only (a FIFO named .jpg would block the reader), keeps broken links to record them as failed', async () => {
    const { execFileSync } = await import('node:child_process');
    const { symlinkSync } = await import('node:fs');
    const root = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-fifo-'));
    mkdirSync(path.join(root, 'a'));
    writeFileSync(path.join(root, 'a', 'ok.jpg'), '');
    execFileSync('mkfifo', [path.join(root, 'a', 'pipe.jpg')]);
    symlinkSync(path.join(root, 'nowhere.jpg'), path.join(root, 'a', 'broken.jpg'));
    expect((await collect(imagefolder.samples(root))).map((s) => s.key)).toEqual(['a/broken.jpg', 'a/ok.jpg']);
  });

  it('a directory symlink cycle adds nothing: each real directory is walked once, under its own class', async () => {
    const { symlinkSync } = await import('node:fs');
    const root = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-cycle-'));
    for (const c of ['a', 'b']) {
      mkdirSync(path.join(root, c, 'sub'), { recursive: true });
      for (let i = 0; i < 4; i++) writeFileSync(path.join(root, c, `${i}.jpg`), '');
      writeFileSync(path.join(root, c, 'sub', 'deep.png'), '');
    }
    symlinkSync('..', path.join(root, 'a', 'up')); // back to the root: would walk a and b again under a
    symlinkSync('.', path.join(root, 'b', 'self')); // itself
    symlinkSync('../..', path.join(root, 'b', 'sub', 'top')); // the root, from two levels down
    symlinkSync('sub', path.join(root, 'a', 'to-sub')); // a second way into a real folder already walked
    const samples = await collect(imagefolder.samples(root));
    expect(samples).toHaveLength(10);
    expect(samples.map((s) => [s.key, s.label])).toEqual([
      ...['0', '1', '2', '3'].map((i) => [`a/${i}.jpg`, 0]),
      ['a/sub/deep.png', 0],
      ...['0', '1', '2', '3'].map((i) => [`b/${i}.jpg`, 1]),
      ['b/sub/deep.png', 1],
    ]);
  });

  it('two class folders that are one real folder are refused, not counted twice', async () => {
    const { symlinkSync } = await import('node:fs');
    const root = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-twin-'));
    mkdirSync(path.join(root, 'cat'));
    writeFileSync(path.join(root, 'cat', '1.jpg'), '');
    symlinkSync('cat', path.join(root, 'kitten'));
    await expect(collect(imagefolder.samples(root))).rejects.toThrow(/class folders cat and kitten are the same folder/);
  });

  it('sorts by code point like Python, not by UTF-16 unit', () => {
    // U+FF5E (fullwidth tilde) < U+1F600 (emoji) in code points, but not in UTF-16 units
    expect(['\u{1F600}', '\uFF5E'].sort(byCodePoint)).toEqual(['\uFF5E', '\u{1F600}']);
  });

  it('explains a root without class folders and a missing root', async () => {
    const flat = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-flat-'));
    writeFileSync(path.join(flat, 'ILSVRC2012_val_00000001.JPEG'), '');
    await expect(imagefolder.classIds(flat)).rejects.toThrow(/expected one sub-folder per class.*ILSVRC2012_val_00000001.JPEG/);
    await expect(imagefolder.classIds(path.join(flat, 'nope'))).rejects.toThrow(/does not exist/);
  });

  it('suggests the closest adapter for an unknown name', () => {
    expect(() => getDataset('imagefoldr')).toThrow(/Did you mean "imagefolder"/);
  });
});
