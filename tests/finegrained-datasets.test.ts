/**
 * The fine-grained benchmark adapters (part 1) on miniature copies of their distributions in the native layouts:
 * exact labels computed from what each fixture wrote, one-line errors for wrong roots and bad files, a missing
 * image in a split file listed (and later recorded as failed), and each dataset evaluated by name end to end.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { byCodePoint } from '../src/datasets/imagefolder.js';
import { getDataset, type DatasetAdapter } from '../src/datasets/index.js';
import { rankedSplit } from '../src/datasets/split-files.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import { writeClipArch } from '../src/fixtures/fixture-models.js';
import { loadPromptSet, resolvePrompts } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { getRun, iteratePredictions } from '../src/store/runs.js';
import { writeMat } from './support/mat5-writer.js';
import {
  officialIds,
  write,
  writeAircraft,
  writeCars,
  writeClassFolders,
  writeDtd,
  writeFlowers,
  writeFood101,
  writePets,
  writeSun397,
  type Entry,
} from './support/finegrained-writers.js';
import { usageFailure as failure } from './support/usage-failure.js';

function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `clip-bench-fg-${prefix}-`));
}

async function collect(a: DatasetAdapter, root: string, split = a.splits[0]): Promise<[string, number][]> {
  const out: [string, number][] = [];
  for await (const s of a.samples(root, split)) {
    // the key names the file: it is the tail of the path
    expect(s.path.endsWith(s.key.split('/').join(path.sep))).toBe(true);
    out.push([s.key, s.label]);
  }
  return out;
}


/** The split's samples in folder order: by class, then by file name in code-point order (torchvision's walk). */
const folderOrder = (xs: readonly [number, string][]) => [...xs].sort((a, b) => a[0] - b[0] || byCodePoint(a[1], b[1])).map(([c, k]) => [k, c] as [string, number]);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

// ---------------------------------------------------------------- one case per dataset

interface Case {
  id: string;
  /** the distribution's name in errors */
  name: string;
  write(root: string): Promise<void>;
  /** (key, label) of the default split, in order, computed from the fixture's input */
  expected: [string, number][];
  /** keys whose image is referenced but not written */
  missing: string[];
  metric: string;
  count: number;
}

const ids = Object.fromEntries(['food101', 'oxford-pets', 'flowers102', 'dtd', 'eurosat', 'resisc45', 'caltech101', 'stanford-cars', 'fgvc-aircraft', 'sun397'].map((d) => [d, officialIds(d)]));

const FOOD: Entry[] = [[0, '1011328'], [100, '99'], [5, '7'], [0, '42']];
const PETS: Entry[] = [[0, '100'], [36, '12'], [1, '5'], [11, '3'], [0, '7']];
const FLOWER_LABELS = [3, 102, 1, 50, 3, 77, 1, 2];
const FLOWER_TEST = [5, 2, 8, 1, 7];
const DTD: Entry[] = [[0, 'banded_0002.jpg'], [46, 'zigzagged_0100.jpg'], [10, `${ids.dtd[10]}_0001.jpg`]];
const CARS: Entry[] = [[0, '00001.jpg'], [195, '00002.jpg'], [57, '00003.jpg'], [0, '00004.jpg']];
const AIRCRAFT: Entry[] = [[0, '1514522'], [99, '0056978'], [ids['fgvc-aircraft'].indexOf('Cessna 172'), '2233445'], [ids['fgvc-aircraft'].indexOf('F-16A/B'), '0000017']];
const SUN: Entry[] = [[0, 'sun_aaa.jpg'], [8, 'sun_bbb.jpg'], [396, 'sun_ccc.jpg']];
const EUROSAT = { 0: 3, 9: 2, 4: 1 };
const RESISC = { 0: 2, 44: 2, 7: 1 };
/** > 30 in three classes (BACKGROUND_Google among them), so each keeps some test images after the 30 train */
const CALTECH = { 0: 32, 1: 31, 101: 33 };

/** Caltech's test split by its definition: in each class, all but the 30 keys of lowest sha256, in folder order. */
function caltechTest(written: [number, string][]): [string, number][] {
  const train = new Set<string>();
  for (const c of new Set(written.map(([l]) => l))) {
    written.filter(([l]) => l === c).map(([, k]) => k).sort((a, b) => (sha(a) < sha(b) ? -1 : 1)).slice(0, 30).forEach((k) => train.add(k));
  }
  return folderOrder(written.filter(([, k]) => !train.has(k)));
}

const folderFiles = (counts: Record<number, number>, dataset: string, name: (cls: string, k: number) => string): [number, string][] =>
  Object.entries(counts).flatMap(([c, n]) => Array.from({ length: n }, (_, k) => [Number(c), `${ids[dataset][Number(c)]}/${name(ids[dataset][Number(c)], k + 1)}`] as [number, string]));

const eurosatName = (c: string, k: number) => `${c}_${k}.jpg`;
const resiscName = (c: string, k: number) => `${c}_${String(k).padStart(3, '0')}.jpg`;
const caltechName = (_: string, k: number) => `image_${String(k).padStart(4, '0')}.jpg`;

const CASES: Case[] = [
  {
    id: 'food101',
    name: 'Food-101',
    write: (root) => writeFood101(root, { test: FOOD, missing: ['7'] }),
    expected: FOOD.map(([c, id]) => [`${ids.food101[c]}/${id}.jpg`, c]),
    missing: [`${ids.food101[5]}/7.jpg`],
    metric: 'top1',
    count: 25_250,
  },
  {
    id: 'oxford-pets',
    name: 'Oxford-IIIT Pet',
    write: (root) => writePets(root, { test: PETS, missing: ['3'] }),
    expected: PETS.map(([c, n]) => [`${ids['oxford-pets'][c]}_${n}.jpg`, c]),
    missing: [`${ids['oxford-pets'][11]}_3.jpg`],
    metric: 'mean-per-class-recall',
    count: 3_669,
  },
  {
    id: 'flowers102',
    name: 'Oxford 102 Flowers',
    write: (root) => writeFlowers(root, { labels: FLOWER_LABELS, tstid: FLOWER_TEST, trnid: [3], valid: [4, 6], missing: [7] }),
    expected: FLOWER_TEST.map((n) => [`image_${String(n).padStart(5, '0')}.jpg`, FLOWER_LABELS[n - 1] - 1]),
    missing: ['image_00007.jpg'],
    metric: 'mean-per-class-recall',
    count: 6_149,
  },
  {
    id: 'dtd',
    name: 'DTD',
    write: (root) => writeDtd(root, { test: DTD, missing: ['zigzagged_0100.jpg'] }),
    expected: DTD.map(([c, f]) => [`${ids.dtd[c]}/${f}`, c]),
    missing: ['zigzagged/zigzagged_0100.jpg'],
    metric: 'top1',
    count: 1_880,
  },
  {
    id: 'eurosat',
    name: 'EuroSAT (RGB)',
    write: async (root) => void (await writeClassFolders(root, '2750', 'eurosat', EUROSAT, eurosatName)),
    // fewer than 500 images per class: all of them are test
    expected: folderOrder(folderFiles(EUROSAT, 'eurosat', eurosatName)),
    missing: [],
    metric: 'top1',
    count: 5_000,
  },
  {
    id: 'resisc45',
    name: 'NWPU-RESISC45',
    write: async (root) => void (await writeClassFolders(root, 'NWPU-RESISC45', 'resisc45', RESISC, resiscName)),
    expected: folderOrder(folderFiles(RESISC, 'resisc45', resiscName)),
    missing: [],
    metric: 'top1',
    count: 25_200,
  },
  {
    id: 'caltech101',
    name: 'Caltech-101',
    write: async (root) => {
      await writeClassFolders(root, '101_ObjectCategories', 'caltech101', CALTECH, caltechName);
      write(root, '101_ObjectCategories/BACKGROUND_Google/tmp', 'not an image'); // the archive's stray file
    },
    expected: caltechTest(folderFiles(CALTECH, 'caltech101', caltechName)),
    missing: [],
    metric: 'mean-per-class-recall',
    count: 6_084,
  },
  {
    id: 'stanford-cars',
    name: 'Stanford Cars',
    write: (root) => writeCars(root, { test: CARS, missing: ['00003.jpg'] }),
    expected: CARS.map(([c, f]) => [f, c]),
    missing: ['00003.jpg'],
    metric: 'top1',
    count: 8_041,
  },
  {
    id: 'fgvc-aircraft',
    name: 'FGVC-Aircraft',
    write: (root) => writeAircraft(root, { test: AIRCRAFT, missing: ['2233445'] }),
    expected: AIRCRAFT.map(([c, id]) => [`${id}.jpg`, c]),
    missing: ['2233445.jpg'],
    metric: 'mean-per-class-recall',
    count: 3_333,
  },
  {
    id: 'sun397',
    name: 'SUN397',
    write: (root) => writeSun397(root, { test: SUN, missing: ['sun_ccc.jpg'] }),
    expected: SUN.map(([c, f]) => [`${ids.sun397[c].slice(1)}/${f}`, c]),
    missing: ['y/youth_hostel/sun_ccc.jpg'],
    metric: 'top1',
    count: 19_850,
  },
];

const roots: Record<string, string> = {};

beforeAll(async () => {
  for (const c of CASES) {
    roots[c.id] = tmp(c.id);
    await c.write(roots[c.id]);
  }
});

describe.each(CASES)('$id', (c) => {
  it('lists the split with labels exactly as the fixture wrote them; class ids are the official ids in label order', async () => {
    const a = getDataset(c.id);
    expect(a.id).toBe(c.id);
    expect(a.splits[0]).toBe('test');
    expect(a.expectedCount?.test).toBe(c.count);
    expect(a.metric).toBe(c.metric);
    expect(a.defaultPrompts).toBe(c.id);
    expect(a.layout).toMatch(/ROOT\//);
    expect(await a.classIds(roots[c.id], 'test')).toEqual(ids[c.id]);
    const got = await collect(a, roots[c.id]);
    expect(got).toEqual(c.expected);
    // a split file's entry whose image is missing is still a sample (the evaluator records it as failed)
    for (const k of c.missing) expect(got.map(([key]) => key)).toContain(k);
  });

  it('a root that is not the distribution gives one UsageError saying what was expected and what was found', async () => {
    const root = tmp(`${c.id}-wrong`);
    writeFileSync(path.join(root, 'README.txt'), 'hello');
    mkdirSync(path.join(root, 'stuff'));
    const msg = await failure(getDataset(c.id).classIds(root, 'test'));
    expect(msg).toContain(`${root}: found 1 folder (stuff) and 1 file (README.txt); expected the ${c.name} distribution: ${getDataset(c.id).layout}`);
    expect(msg).not.toMatch(/\n/);
    expect(await failure(collect(getDataset(c.id), root))).toBe(msg);
    expect(await failure(getDataset(c.id).classIds(path.join(root, 'nope'), 'test'))).toMatch(/nope: dataset root does not exist/);
  });
});

// ---------------------------------------------------------------- dataset-specific behaviour

describe('split files: partial distributions and bad lines', () => {
  it('food101: names the missing file of a partial distribution, a bad line and the train split', async () => {
    const root = tmp('food-partial');
    await writeFood101(root, { test: [[3, '1']], train: [[2, '5'], [100, '6']] });
    expect(await collect(getDataset('food101'), root, 'train')).toEqual([
      [`${ids.food101[2]}/5.jpg`, 2],
      [`${ids.food101[100]}/6.jpg`, 100],
    ]);
    write(root, 'food-101/meta/test.txt', 'apple_pie/1\nnot_a_dish/2\n');
    expect(await failure(collect(getDataset('food101'), root))).toMatch(/meta\/test\.txt: line 2 is "not_a_dish\/2", not <class>\/<image id> with a class of meta\/classes\.txt/);
    rmSync(path.join(root, 'food-101/meta/test.txt'));
    expect(await failure(getDataset('food101').classIds(root, 'test'))).toMatch(/found meta\/classes\.txt, images\/ in .*food-101 but not meta\/test\.txt; expected the Food-101 distribution: .* — extract the whole Food-101 archive/);
  });

  it('oxford-pets: refuses a CLASS-ID given to two breeds', async () => {
    const root = tmp('pets-bad');
    await writePets(root, { test: [[0, '1']] });
    write(root, 'annotations/test.txt', `Abyssinian_1 1 1 1\nBengal_2 1 1 2\n`);
    expect(await failure(collect(getDataset('oxford-pets'), root))).toMatch(/test\.txt: line 2: Bengal_2 has CLASS-ID 1, which other lines give to Abyssinian/);
    write(root, 'annotations/test.txt', `Abyssinian_1 38 1 1\n`);
    expect(await failure(collect(getDataset('oxford-pets'), root))).toMatch(/line 1 is "Abyssinian_1 38 1 1", not "<Breed>_<n> <CLASS-ID 1…37>/);
  });

  it('oxford-pets: without list.txt and trainval.txt, names the CLASS-IDs no line names', async () => {
    const root = tmp('pets-few');
    await writePets(root, { test: [[0, '1'], [2, '1']] });
    rmSync(path.join(root, 'annotations/list.txt'));
    rmSync(path.join(root, 'annotations/trainval.txt'));
    expect(await failure(getDataset('oxford-pets').classIds(root, 'test'))).toMatch(/the annotation files name no breed for CLASS-ID 2, 4, 5, /);
  });

  it('flowers102: reads train/val ids, refuses ids outside imagelabels and labels outside 1…102', async () => {
    const root = roots.flowers102;
    expect(await collect(getDataset('flowers102'), root, 'train')).toEqual([['image_00003.jpg', 0]]);
    expect(await collect(getDataset('flowers102'), root, 'val')).toEqual([
      ['image_00004.jpg', 49],
      ['image_00006.jpg', 76],
    ]);
    const bad = tmp('flowers-bad');
    await writeFlowers(bad, { labels: [1, 2], tstid: [1, 3] });
    expect(await failure(collect(getDataset('flowers102'), bad))).toMatch(/setid\.mat: tstid\(2\) is 3, not an image number 1…2 of imagelabels\.mat/);
    write(bad, 'flowers-102/imagelabels.mat', writeMat({ labels: { numeric: [1, 103] } }));
    expect(await failure(collect(getDataset('flowers102'), bad))).toMatch(/imagelabels\.mat: labels\(2\) is 103, not a class 1…102/);
    write(bad, 'flowers-102/setid.mat', writeMat({ trnid: { numeric: [1] } }));
    write(bad, 'flowers-102/imagelabels.mat', writeMat({ labels: { numeric: [1, 2] } }));
    expect(await failure(collect(getDataset('flowers102'), bad))).toMatch(/setid\.mat: MAT-file: no variable "tstid"; the file holds trnid/);
  });

  it('dtd: uses partition 1; a line outside the class folders is an error', async () => {
    expect(await collect(getDataset('dtd'), roots.dtd, 'train')).toEqual([['banded/banded_0001.jpg', 0]]);
    const root = tmp('dtd-bad');
    await writeDtd(root, { test: [[1, 'x.jpg']] });
    write(root, 'dtd/labels/test1.txt', 'blotchy/x.jpg\nplaid\n');
    expect(await failure(collect(getDataset('dtd'), root))).toMatch(/test1\.txt: line 2 is "plaid", not <class>\/<file> with a class folder of images\//);
    // the distribution's dtd/ folder itself works as --root
    expect(await collect(getDataset('dtd'), path.join(root, 'dtd'), 'val')).toEqual([['banded/banded_0002.jpg', 0]]);
  });

  it('stanford-cars: finds the test labels in devkit/ too; explains their absence and a bad class', async () => {
    const root = tmp('cars');
    await writeCars(root, { test: [[4, '00001.jpg']], annosInDevkit: true });
    expect(await collect(getDataset('stanford-cars'), root)).toEqual([['00001.jpg', 4]]);
    rmSync(path.join(root, 'stanford_cars/devkit/cars_test_annos_withlabels.mat'));
    expect(await failure(collect(getDataset('stanford-cars'), root))).toMatch(/missing cars_test_annos_withlabels\.mat \(the test labels, released apart from the devkit/);
    write(root, 'stanford_cars/devkit/cars_meta.mat', writeMat({ class_names: { cell: [{ char: 'one car' }] } }));
    expect(await failure(getDataset('stanford-cars').classIds(root, 'test'))).toMatch(/cars_meta\.mat: class_names has 1 classes, expected 196/);
  });

  it('train/val splits of Cars, Aircraft, Pets and DTD need only their own files, not the test files', async () => {
    const pets = tmp('pets-trainval');
    await writePets(pets, { test: [[0, '1']] });
    rmSync(path.join(pets, 'annotations/test.txt'));
    const petIds = officialIds('oxford-pets');
    expect(await getDataset('oxford-pets').classIds(pets, 'trainval')).toEqual(petIds);
    expect(await collect(getDataset('oxford-pets'), pets, 'trainval')).toEqual(petIds.map((b, c) => [`${b}_1000.jpg`, c]));

    const aircraft = tmp('aircraft-trainval');
    await writeAircraft(aircraft, { test: [[0, '1']] });
    rmSync(path.join(aircraft, 'fgvc-aircraft-2013b/data/images_variant_test.txt'));
    expect(await collect(getDataset('fgvc-aircraft'), aircraft, 'trainval')).toEqual([['0000001.jpg', 0]]);

    const dtdRoot = tmp('dtd-train');
    await writeDtd(dtdRoot, { test: [[1, 'x.jpg']] });
    rmSync(path.join(dtdRoot, 'dtd/labels/test1.txt'));
    expect(await collect(getDataset('dtd'), dtdRoot, 'train')).toEqual([['banded/banded_0001.jpg', 0]]);
    expect(await collect(getDataset('dtd'), dtdRoot, 'val')).toEqual([['banded/banded_0002.jpg', 0]]);
    // the test split still names what it lacks
    expect(await failure(collect(getDataset('dtd'), dtdRoot, 'test'))).toMatch(/but not labels\/test1\.txt/);

    const cars = tmp('cars-train');
    await writeCars(cars, { test: [[4, '00001.jpg']] });
    rmSync(path.join(cars, 'stanford_cars/cars_test'), { recursive: true });
    rmSync(path.join(cars, 'stanford_cars/cars_test_annos_withlabels.mat'));
    const annos = {
      struct: [{ bbox_x1: { numeric: [1] }, bbox_y1: { numeric: [2] }, bbox_x2: { numeric: [30] }, bbox_y2: { numeric: [40] }, class: { numeric: [7] }, fname: { char: '00001.jpg' } }],
      fields: ['bbox_x1', 'bbox_y1', 'bbox_x2', 'bbox_y2', 'class', 'fname'],
      dims: [1, 1],
    };
    write(cars, 'stanford_cars/devkit/cars_train_annos.mat', writeMat({ annotations: annos } as Parameters<typeof writeMat>[0]));
    mkdirSync(path.join(cars, 'stanford_cars/cars_train'));
    expect(await getDataset('stanford-cars').classIds(cars, 'train')).toHaveLength(196);
    expect(await collect(getDataset('stanford-cars'), cars, 'train')).toEqual([['00001.jpg', 6]]);
  });

  it('fgvc-aircraft: a variant not in variants.txt is an error', async () => {
    const root = tmp('aircraft-bad');
    await writeAircraft(root, { test: [[0, '1']] });
    write(root, 'fgvc-aircraft-2013b/data/images_variant_test.txt', '0000001 707-320\n0000002 Boeing 999\n');
    expect(await failure(collect(getDataset('fgvc-aircraft'), root))).toMatch(/line 2 is "0000002 Boeing 999", not "<image id> <variant>" with a variant of data\/variants\.txt/);
  });

  it('sun397: finds Partitions/ in ROOT or beside ClassName.txt, and says where it looked', async () => {
    const root = tmp('sun');
    await writeSun397(root, { test: [[0, 'sun_x.jpg']] });
    expect(await collect(getDataset('sun397'), root, 'train')).toEqual([['a/abbey/sun_train.jpg', 0]]);
    // --root = SUN397/ itself, partitions beside ClassName.txt
    write(root, 'SUN397/Testing_01.txt', '/a/abbey/sun_y.jpg\n');
    expect(await collect(getDataset('sun397'), path.join(root, 'SUN397'))).toEqual([['a/abbey/sun_y.jpg', 0]]);
    rmSync(path.join(root, 'Partitions'), { recursive: true });
    rmSync(path.join(root, 'SUN397/Testing_01.txt'));
    expect(await failure(collect(getDataset('sun397'), root))).toMatch(/missing Testing_01\.txt, the split file from Partitions\.zip .* — extract Partitions\.zip/);
  });
});

describe('splits for the distributions without one', () => {
  it('rankedSplit deals each class out by sha256 rank of the key, whatever the input order', () => {
    const samples = ['a/1.jpg', 'a/2.jpg', 'a/3.jpg', 'a/4.jpg', 'a/5.jpg', 'b/1.jpg', 'b/2.jpg'].map((key) => ({ key, label: key[0] === 'a' ? 0 : 1 }));
    const quotas = [
      { split: 'test', perClass: 2 },
      { split: 'train', perClass: 1 },
    ];
    const got = rankedSplit(samples, quotas, 'val');
    // oracle: rank per class by hash, first 2 test, next 1 train, rest val
    const want = new Map<string, string>();
    for (const cls of ['a', 'b']) {
      samples
        .filter((s) => s.key[0] === cls)
        .map((s) => s.key)
        .sort((x, y) => (sha(x) < sha(y) ? -1 : 1))
        .forEach((k, r) => want.set(k, r < 2 ? 'test' : r < 3 ? 'train' : 'val'));
    }
    expect(got).toEqual(samples.map((s) => want.get(s.key)));
    expect(got.filter((s) => s === 'test')).toHaveLength(4);
    const reversed = rankedSplit([...samples].reverse(), quotas, 'val');
    expect(reversed).toEqual([...got].reverse());
  });

  it('caltech101: 30 per class are train, BACKGROUND_Google is a class with its samples, the stray tmp file is no sample', async () => {
    const a = getDataset('caltech101');
    const train = await collect(a, roots.caltech101, 'train');
    expect(train).toHaveLength(90);
    expect(await collect(a, roots.caltech101, 'all')).toHaveLength(96);
    const test = await collect(a, roots.caltech101, 'test');
    expect(test.filter(([, l]) => l === 0)).toHaveLength(2);
    expect(new Set([...train, ...test].map(([k]) => k)).size).toBe(96);
    expect(ids.caltech101[0]).toBe('BACKGROUND_Google');
  });

  it('eurosat and resisc45: small classes go to test first; "all" is every image; folders as the archives unpack', async () => {
    expect(await collect(getDataset('eurosat'), roots.eurosat, 'train')).toEqual([]);
    expect(await collect(getDataset('eurosat'), path.join(roots.eurosat, '2750'), 'all')).toEqual(folderOrder(folderFiles(EUROSAT, 'eurosat', eurosatName)));
    expect(await collect(getDataset('resisc45'), roots.resisc45, 'val')).toEqual([]);
    const rgb = tmp('eurosat-rgb');
    await writeClassFolders(rgb, 'EuroSAT_RGB', 'eurosat', { 3: 1 }, eurosatName);
    expect(await collect(getDataset('eurosat'), rgb)).toEqual([[`${ids.eurosat[3]}/${ids.eurosat[3]}_1.jpg`, 3]]);
  });

  it("eurosat and dtd: roots as torchvision keeps them (ROOT/eurosat/2750/, ROOT/dtd/dtd/)", async () => {
    const tv = tmp('eurosat-tv');
    await writeClassFolders(tv, 'eurosat/2750', 'eurosat', { 5: 1 }, eurosatName);
    expect(await collect(getDataset('eurosat'), tv, 'all')).toEqual([[`${ids.eurosat[5]}/${ids.eurosat[5]}_1.jpg`, 5]]);
    const dtdTv = tmp('dtd-tv');
    await writeDtd(path.join(dtdTv, 'dtd'), { test: [[2, 'x.jpg']] });
    expect(await collect(getDataset('dtd'), dtdTv, 'test')).toEqual([[`${ids.dtd[2]}/x.jpg`, 2]]);
  });
});

// ---------------------------------------------------------------- end to end

describe('evaluated by name end to end (tiny random CLIP, default prompts)', () => {
  let modelDir: string;
  beforeAll(async () => {
    const texts = CASES.flatMap((c) => {
      const set = loadPromptSet(c.id);
      return resolvePrompts(set, ids[c.id], c.id).texts;
    });
    modelDir = path.join(tmp('model'), 'tiny');
    await writeClipArch(modelDir, 'tiny', texts);
  });

  it.each(CASES)('$id', async (c) => {
    const db = openDb(':memory:');
    const r = await runZeroShot(db, { modelDir, dataset: c.id, root: roots[c.id], batchSize: 4, workers: 1, cache: false });
    expect(r.dataset).toBe(c.id);
    expect(r.split).toBe('test');
    expect(r.promptSet).toBe(c.id);
    expect(r.headline).toBe(c.metric);
    expect(r.n).toBe(c.expected.length);
    expect(r.nFailed).toBe(c.missing.length);
    expect(getRun(db, r.runId).status).toBe('finished');
    const preds = [...iteratePredictions(db, r.runId)];
    expect(preds.map((p) => [p.key, p.label])).toEqual(c.expected);
    expect(preds.filter((p) => p.error !== null).map((p) => p.key)).toEqual(c.missing);
    for (const p of preds) if (p.error === null) expect(p.top5).toHaveLength(5);
  });
});
