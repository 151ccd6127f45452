import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { getDataset } from '../src/datasets/index.js';
import { indexTar, readTarMember } from '../src/datasets/tar.js';
import type { Sample } from '../src/datasets/types.js';
import { splitMemberName, webdataset, wdsClassNames } from '../src/datasets/webdataset.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import { writeColourDataset } from '../src/fixtures/colour-dataset.js';
import { fixtureTexts, writeToyClip } from '../src/fixtures/fixture-models.js';
import { COLOUR_CORNERS } from '../src/fixtures/toy-clip.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { iteratePredictions } from '../src/store/runs.js';
import { writeTar, type TarIn } from './support/tar-writer.js';
import { usageFailure as failure } from './support/usage-failure.js';

function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `clip-bench-${prefix}-`));
}


async function collect(root: string, split = 'test'): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of webdataset.samples(root, split)) out.push(s);
  return out;
}

/** Byte-exact equality (vitest's deep equality walks a megabyte array element by element: slow). */
function expectSameBytes(got: Uint8Array, want: Uint8Array | undefined): void {
  expect(want).toBeDefined();
  expect(got.length).toBe(want!.length);
  expect(Buffer.from(got.buffer, got.byteOffset, got.length).equals(Buffer.from(want!.buffer, want!.byteOffset, want!.length))).toBe(true);
}

/** Deterministic bytes that differ from member to member. */
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 17 + (i >> 8)) & 0xff);

// ---------------------------------------------------------------- tar reader

describe('tar reader', () => {
  const long = `${'d'.repeat(60)}/${'e'.repeat(70)}.bin`; // 131 bytes: past the 100-byte name field, splittable for ustar
  const members: TarIn[] = [
    { name: 'top/', dir: true },
    { name: 'top/empty.cls', data: '' },
    { name: 'top/one.txt', data: bytes(1, 1) },
    { name: 'top/block-less-one', data: bytes(511, 2) },
    { name: 'top/block', data: bytes(512, 3) },
    { name: long, data: bytes(513, 4) },
    { name: 'top/after-long.png', data: bytes(1500, 5) },
  ];

  it.each(['gnu', 'pax', 'ustar'] as const)('indexes our writer\'s archive (long names as %s) and reads every member back exactly', async (format) => {
    const file = path.join(tmp('tar'), 'a.tar');
    writeFileSync(file, writeTar(members, { long: format }));
    const index = await indexTar(file);
    const files = members.filter((m) => !m.dir);
    expect(index.map((m) => m.name)).toEqual(files.map((m) => m.name));
    for (const [i, m] of index.entries()) {
      const want = typeof files[i].data === 'string' ? new TextEncoder().encode(files[i].data as string) : files[i].data!;
      expect(m.size).toBe(want.length);
      expect(await readTarMember(file, m)).toEqual(want);
    }
  });

  it('reads only the selected members\' bytes while indexing', async () => {
    const file = path.join(tmp('tar'), 'a.tar');
    writeFileSync(file, writeTar(members));
    const index = await indexTar(file, { contents: (n) => n.endsWith('.txt') });
    expect(index.filter((m) => m.data).map((m) => [m.name, [...m.data!]])).toEqual([['top/one.txt', [...bytes(1, 1)]]]);
  });

  it.each(['gnu', 'posix', 'ustar', 'v7'])('indexes an archive made by GNU tar --format=%s (long and UTF-8 names, members past the read window)', async (format) => {
    const dir = tmp('gnutar');
    const names =
      format === 'v7'
        ? ['a/short.jpg', 'a/b/zero.cls', 'a/big.bin', 'a/c.txt'] // v7 has no long names
        : ['a/short.jpg', `a/${'x'.repeat(90)}/${'y'.repeat(40)}.webp`, 'a/b/zero.cls', 'a/big.bin', 'a/ünïcödé-名前.png', 'a/c.txt'];
    const contents = new Map(names.map((n, i) => [n, n.endsWith('zero.cls') ? new Uint8Array(0) : bytes(n === 'a/big.bin' ? 1_300_000 : 700 + i, i)]));
    for (const [n, data] of contents) {
      mkdirSync(path.dirname(path.join(dir, 'src', n)), { recursive: true });
      writeFileSync(path.join(dir, 'src', n), data);
    }
    const file = path.join(dir, 'out.tar');
    execFileSync('tar', [`--format=${format}`, '-cf', file, '-C', path.join(dir, 'src'), '--no-recursion', 'a', 'a/b', ...names]);
    const index = await indexTar(file);
    expect(index.map((m) => m.name)).toEqual(names);
    for (const m of index) expectSameBytes(await readTarMember(file, m), contents.get(m.name));
  });

  it('a truncated or damaged archive is one UsageError naming the file', async () => {
    const dir = tmp('tar-bad');
    const whole = writeTar([{ name: 's1.png', data: bytes(700, 1) }, { name: 's1.cls', data: '3' }]);
    const cases: [string, Uint8Array, RegExp][] = [
      ['mid-member.tar', whole.subarray(0, 512 + 300), /member of 700 bytes that runs past the end of the file .*truncated/],
      ['at-boundary.tar', whole.subarray(0, 512 + 1024 + 512 + 512), /ends after 2 members without the end-of-archive blocks \(truncated\)/],
      ['partial-header.tar', whole.subarray(0, 512 + 1024 + 100), /a partial header block/],
      ['flipped.tar', Uint8Array.from(whole, (b, i) => (i === 3 ? b ^ 1 : b)), /header checksum mismatch at byte 0/],
      ['text.tar', new TextEncoder().encode('not a tar\n'.repeat(100)), /header checksum mismatch/],
    ];
    for (const [name, data, message] of cases) {
      const file = path.join(dir, name);
      writeFileSync(file, data);
      const line = await failure(indexTar(file));
      expect(line).toMatch(message);
      expect(line.startsWith(`${file}: not a valid tar archive`)).toBe(true);
    }
  });
});

// ---------------------------------------------------------------- WebDataset adapter

interface WdsSample {
  key: string;
  /** suffix → bytes */
  members: Record<string, Uint8Array | string>;
}

function writeWds(root: string, classes: readonly string[], shards: WdsSample[][], opts: { nshards?: boolean; templates?: string[]; split?: string } = {}): string[] {
  const split = path.join(root, opts.split ?? 'test');
  mkdirSync(split, { recursive: true });
  writeFileSync(path.join(root, 'classnames.txt'), classes.join('\n') + '\n');
  if (opts.templates) writeFileSync(path.join(root, 'zeroshot_classification_templates.txt'), opts.templates.join('\n') + '\n');
  if (opts.nshards ?? true) writeFileSync(path.join(split, 'nshards.txt'), `${shards.length}\n`);
  return shards.map((samples, i) => {
    const file = path.join(split, `${i}.tar`);
    writeFileSync(file, writeTar(samples.flatMap((s) => Object.entries(s.members).map(([suffix, data]) => ({ name: `${s.key}.${suffix}`, data })))));
    return file;
  });
}

/** A small RGB picture with every pixel distinct, and its PNG. */
async function picture(seed: number): Promise<{ raw: Uint8Array; png: Uint8Array }> {
  const raw = bytes(5 * 3 * 3, seed);
  const png = await sharp(raw, { raw: { width: 5, height: 3, channels: 3 } }).png().toBuffer();
  return { raw, png: new Uint8Array(png) };
}

describe('webdataset adapter', () => {
  it('is registered, and splits member names as webdataset does (key up to the first dot of the last component)', () => {
    expect(getDataset('webdataset')).toBe(webdataset);
    expect(splitMemberName('s0000001.png')).toEqual({ key: 's0000001', suffix: 'png' });
    expect(splitMemberName('dir.v2/s1.seg.PNG')).toEqual({ key: 'dir.v2/s1', suffix: 'seg.png' });
    expect(splitMemberName('README')).toBeUndefined();
  });

  it('streams samples in shard and tar order: keys, labels, container path and exact bytes and pixels', async () => {
    const root = tmp('wds');
    const pics = await Promise.all([0, 1, 2, 3].map((i) => picture(i)));
    const classes = ['zebra', 'apple', 'mango'];
    const shards = writeWds(root, classes, [
      [
        { key: 's0000000', members: { png: pics[0].png, cls: '2' } },
        { key: 's0000001', members: { cls: '0\n', png: pics[1].png } }, // label first, trailing newline
      ],
      [
        { key: 's0000002', members: { PNG: pics[2].png, cls: '1', txt: 'ignored' } },
        { key: 'sub/s0000003', members: { png: pics[3].png, cls: '2' } },
      ],
    ]);
    expect(await webdataset.classIds(root)).toEqual(classes);
    const samples = await collect(root);
    expect(samples.map((s) => [s.key, s.label, s.path])).toEqual([
      ['0.tar/s0000000', 2, shards[0]],
      ['0.tar/s0000001', 0, shards[0]],
      ['1.tar/s0000002', 1, shards[1]],
      ['1.tar/sub/s0000003', 2, shards[1]],
    ]);
    for (const [i, s] of samples.entries()) {
      const encoded = (await s.load!()) as Uint8Array;
      expect(encoded).toEqual(pics[i].png);
      const { data, info } = await sharp(encoded).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([5, 3, 3]);
      expect(new Uint8Array(data)).toEqual(pics[i].raw);
    }
  });

  it('picks the image as CLIP_benchmark does (webp, png, jpg, jpeg) and finds numbered shards without nshards.txt', async () => {
    const root = tmp('wds-pref');
    writeWds(root, ['a', 'b'], [[{ key: 'k', members: { jpg: 'JPG', cls: '1', webp: 'WEBP', png: 'PNG' } }], [{ key: 'k2', members: { jpeg: 'JPEG', cls: '0' } }]], { nshards: false });
    const samples = await collect(root);
    expect(await Promise.all(samples.map(async (s) => new TextDecoder().decode((await s.load!()) as Uint8Array)))).toEqual(['WEBP', 'JPEG']);
  });

  it('prompts default to the folder\'s own classnames × templates, else "a photo of a {c}."', () => {
    const root = tmp('wds-prompts');
    writeWds(root, ['cat', 'dog'], [[]], { templates: ['a photo of a {c}.', 'art of the {c}.'] });
    const ref = (webdataset.defaultPrompts as (ids: readonly string[], root: string) => string)(['cat', 'dog'], root);
    expect(ref).toBe(root);
    const set = loadPromptSet(ref);
    expect([set.classnames, set.templates]).toEqual([[['cat'], ['dog']], ['a photo of a {c}.', 'art of the {c}.']]);
    const bare = tmp('wds-bare');
    writeWds(bare, ['cat'], [[]]);
    expect((webdataset.defaultPrompts as (ids: readonly string[], root: string) => string)(['cat'], bare)).toBe('single');
  });

  it.each<[string, (root: string) => void, RegExp]>([
    ['no classnames.txt', (r) => mkdirSync(path.join(r, 'test', 'x'), { recursive: true }), /: no classnames\.txt; found 1 folder \(test\); expected a CLIP_benchmark WebDataset: .* — add classnames\.txt/],
    ['a blank line inside classnames.txt', (r) => (writeWds(r, ['a'], [[]]), writeFileSync(path.join(r, 'classnames.txt'), 'a\n\nb\n')), /classnames\.txt:2: line 2 is blank/],
    ['a retrieval dataset', (r) => (writeWds(r, ['a'], [[]]), writeFileSync(path.join(r, 'dataset_type.txt'), 'retrieval\n')), /dataset_type\.txt: this is a "retrieval" dataset/],
    ['no split folder', (r) => writeFileSync(path.join(r, 'classnames.txt'), 'a\n'), /: no test\/ folder; found 1 file \(classnames\.txt\)/],
    ['a shard nshards.txt promises', (r) => (writeWds(r, ['a'], [[{ key: 'k', members: { png: 'x', cls: '0' } }]]), writeFileSync(path.join(r, 'test', 'nshards.txt'), '2\n')), /test\/1\.tar: shard 1\.tar of 2 is missing/],
    ['a gap in the numbered shards', (r) => (writeWds(r, ['a'], [[], [], []], { nshards: false }), rmSync(path.join(r, 'test', '1.tar'))), /test\/1\.tar: shard 1\.tar of 3 is missing/],
    ['a label past the classes', (r) => writeWds(r, ['a', 'b', 'c'], [[{ key: 's7', members: { png: 'x', cls: '3' } }]]), /test\/0\.tar: sample "s7" has label "3", not a class index 0…2/],
    ['a non-integer label', (r) => writeWds(r, ['a', 'b'], [[{ key: 's7', members: { png: 'x', cls: 'b' } }]]), /sample "s7" has label "b", not a class index/],
    ['a sample without .cls', (r) => writeWds(r, ['a'], [[{ key: 's1', members: { png: 'x', npy: 'y' } }]]), /test\/0\.tar: sample "s1" has no \.cls label member \(multi-label \.npy targets are not supported\)/],
    ['a sample without an image', (r) => writeWds(r, ['a'], [[{ key: 's1', members: { txt: 'x', cls: '0' } }]]), /test\/0\.tar: sample "s1" has no image member .*it has: \.txt, \.cls/],
    ['a key split apart', (r) => writeWds(r, ['a'], [[{ key: 's1', members: { png: 'x' } }, { key: 's2', members: { png: 'x', cls: '0' } }, { key: 's1', members: { cls: '0' } }]]), /sample key "s1" appears in two places/],
    [
      'a truncated shard',
      (r) => {
        const [shard] = writeWds(r, ['a'], [[{ key: 's1', members: { png: bytes(3000, 1), cls: '0' } }]]);
        writeFileSync(shard, readFileSync(shard).subarray(0, 2000));
      },
      /test\/0\.tar: not a valid tar archive: a member of 3000 bytes that runs past the end of the file \(2000 bytes; truncated\) at byte 0 — the shard is truncated or damaged/,
    ],
  ])('%s: one UsageError naming the file', async (_what, make, message) => {
    const root = tmp('wds-bad');
    make(root);
    const line = await failure((async () => (await wdsClassNames(root), await collect(root)))());
    expect(line).toMatch(message);
    expect(line.startsWith(root)).toBe(true);
  });
});

// ---------------------------------------------------------------- end to end

describe('webdataset end to end with the toy CLIP', () => {
  const classes = Object.keys(COLOUR_CORNERS);
  const templates = loadPromptSet('colours').templates;
  let dir: string;
  let model: string;
  let expected: { key: string; label: number }[];

  /** The colour images packed into three shards; classnames.txt rotated by `rotate` relative to the .cls labels. */
  function pack(root: string, images: { path: string; label: string }[], rotate = 0): void {
    const shards: WdsSample[][] = [[], [], []];
    images.forEach((img, i) => {
      shards[i % 3].push({ key: `s${String(i).padStart(7, '0')}`, members: { [path.extname(img.path).slice(1)]: readFileSync(img.path), cls: String(classes.indexOf(img.label)) } });
    });
    writeWds(root, classes.map((_, i) => classes[(i + rotate) % classes.length]), shards, { templates });
  }

  beforeAll(async () => {
    dir = tmp('wds-e2e');
    model = path.join(dir, 'toy-clip');
    await writeToyClip(model, fixtureTexts(templates));
    const images = await writeColourDataset(path.join(dir, 'colours'), { perClass: 2, seed: 11 });
    pack(path.join(dir, 'wds'), images);
    pack(path.join(dir, 'wds-rotated'), images, 1);
    expected = [0, 1, 2].flatMap((shard) =>
      images.flatMap((img, i) => (i % 3 === shard ? [{ key: `${shard}.tar/s${String(i).padStart(7, '0')}`, label: classes.indexOf(img.label) }] : [])),
    );
  });

  it('evaluates by name with its own prompts: every image right, labels and keys stored in shard order', async () => {
    const db = openDb(':memory:');
    const root = path.join(dir, 'wds');
    const r = await runZeroShot(db, { modelDir: model, dataset: 'webdataset', root, batchSize: 5, workers: 1, cache: false });
    expect(r).toMatchObject({ dataset: 'webdataset', split: 'test', n: 16, nFailed: 0, top1: 1, promptSet: 'wds' });
    const preds = [...iteratePredictions(db, r.runId)];
    expect(preds.map((p) => ({ key: p.key, label: p.label }))).toEqual(expected);
    expect(preds.every((p) => p.top5![0] === p.label)).toBe(true);
  });

  it('the class names come from classnames.txt by label: rotating them makes every image wrong', async () => {
    const r = await runZeroShot(openDb(':memory:'), { modelDir: model, dataset: 'webdataset', root: path.join(dir, 'wds-rotated'), batchSize: 8, workers: 1, cache: false });
    expect([r.n, r.top1]).toEqual([16, 0]);
  });
});
