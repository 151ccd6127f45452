/**
 * Ten of the paper's benchmarks read in their native layouts (GTSRB, Country211, Rendered SST2, CLEVR counts,
 * KITTI distance, VOC2007, Birdsnap, UCF101, Kinetics-700, Hateful Memes): labels exactly as the fixture's own
 * annotation files say, one-line errors for a root that does not fit, and each dataset evaluated by name
 * end-to-end on its fixture. VOC2007's stored mAP is recomputed from the stored scores and the targets written;
 * Hateful Memes' ROC AUC from the stored logits and the labels written.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBirdsnapSpecies } from '../src/datasets/birdsnap.js';
import { CLEVR_COUNT_IDS } from '../src/datasets/clevr.js';
import { parseGtsrbCsv } from '../src/datasets/gtsrb.js';
import { getDataset, type DatasetAdapter, type Sample } from '../src/datasets/index.js';
import { closestVehicleLabel, kittiSplits } from '../src/datasets/kitti.js';
import { LegacyRandomState } from '../src/datasets/numpy-random.js';
import { VOC_CLASSES } from '../src/datasets/voc2007.js';
import { elevenPointMap, rocAuc } from '../src/eval/paper-metrics.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import { writeClipArch } from '../src/fixtures/fixture-models.js';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet, resolvePrompts } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { getRun, iteratePredictions, type PredictionRow } from '../src/store/runs.js';
import {
  KITTI_DONTCARE,
  kittiObject,
  promptKeys,
  tmp,
  write,
  writeBirdsnap,
  writeClevr,
  writeGtsrb,
  writeHatefulMemes,
  writeKinetics,
  writeKitti,
  writeSplitFolders,
  writeUcf101,
  writeVoc,
  type BirdSpecies,
  type VocFlag,
} from './support/benchmark-writers.js';
import { usageFailure as failure } from './support/usage-failure.js';

const IDS = ['gtsrb', 'country211', 'sst2', 'clevr-counts', 'kitti', 'voc2007', 'birdsnap', 'ucf101', 'kinetics700', 'hateful-memes'] as const;

let work: string;
let model: string;
/** one-template versions of the two big prompt sets (same class names, by id), to keep the text side quick */
const oneTemplate: Record<string, string> = {};

beforeAll(async () => {
  work = tmp('benchmarks');
  for (const [id, template] of [['kinetics700', 'a photo of {c}.'], ['ucf101', 'a photo of a person {c}.']] as const) {
    oneTemplate[id] = path.join(work, `${id}-one.json`);
    writeFileSync(oneTemplate[id], JSON.stringify({ id: `${id}-one`, include: id, templates: [template] }));
  }
  const texts = IDS.flatMap((id) => resolvePrompts(loadPromptSet(oneTemplate[id] ?? id), promptKeys(id), id).texts);
  model = path.join(work, 'model');
  mkdirSync(model);
  await writeClipArch(model, 'tiny', texts);
}, 300_000);

async function collectSamples(a: DatasetAdapter, root: string, split = a.splits[0]): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of a.samples(root, split)) out.push(s);
  return out;
}

/** [key, label] of every sample; each sample's file is its key under some folder. */
async function collect(a: DatasetAdapter, root: string, split?: string): Promise<[string, number][]> {
  const out = await collectSamples(a, root, split);
  for (const s of out) expect(s.path.split(path.sep).join('/').endsWith(s.key)).toBe(true);
  return out.map((s) => [s.key, s.label]);
}


/** Runs the dataset by name through runZeroShot; checks the run finished and every sample was scored. */
async function evaluate(dataset: string, root: string, opts: { prompts?: string; split?: string } = {}) {
  const db = openDb(':memory:');
  const r = await runZeroShot(db, { modelDir: model, dataset, root, prompts: opts.prompts, split: opts.split, batchSize: 3, workers: 1, cache: false });
  const run = getRun(db, r.runId);
  expect(run.status).toBe('finished');
  expect(run.dataset).toBe(dataset);
  expect(r.nFailed).toBe(0);
  const rows: PredictionRow[] = [...iteratePredictions(db, r.runId)];
  expect(rows).toHaveLength(r.n);
  for (const row of rows) expect(row.top5!.length).toBe(Math.min(5, run.nClasses));
  return { r, run, rows, stored: rows.map((p) => [p.key, p.label] as [string, number]) };
}

describe('registry', () => {
  const paperKeys = Object.keys(JSON.parse(readFileSync(path.join(packageRoot, 'configs', 'paper', 'zero-shot.json'), 'utf8')).datasets);
  it.each(IDS)('%s is registered under its prompt-set and paper id, with the paper metric', (id) => {
    const a = getDataset(id);
    expect(a.id).toBe(id);
    expect(a.defaultPrompts).toBe(id);
    expect(paperKeys).toContain(id);
    const metric = { voc2007: 'map-11pt', 'hateful-memes': 'roc-auc', kinetics700: 'mean-top1-top5' }[id as string] ?? 'top1';
    expect(a.metric).toBe(metric);
    expect(a.layout.length).toBeGreaterThan(20);
  });
});

// ---------------------------------------------------------------- GTSRB

describe('gtsrb', () => {
  const a = getDataset('gtsrb');
  // CSV order, not class order; ClassIds 0, 14, 42 from the ClassId column
  const rows = [[14, '00000.ppm'], [0, '00001.ppm'], [42, '00002.ppm'], [14, '00003.ppm']] as const;

  it('labels are the ClassId column of GT-final_test.csv, in CSV order; classes 0…42', async () => {
    const root = tmp('gtsrb');
    writeGtsrb(root, rows);
    expect(await a.classIds(root, 'test')).toEqual(Array.from({ length: 43 }, (_, i) => String(i)));
    expect(await a.classIds(root, 'test')).toEqual(promptKeys('gtsrb'));
    expect(await collect(a, root)).toEqual(rows.map(([c, f]) => [`GTSRB/Final_Test/Images/${f}`, c]));
    // ROOT may also be the images folder holding the CSV
    const inner = path.join(root, 'GTSRB', 'Final_Test', 'Images');
    renameSync(path.join(root, 'GT-final_test.csv'), path.join(inner, 'GT-final_test.csv'));
    expect(await collect(a, inner)).toEqual(rows.map(([c, f]) => [f, c]));
  });

  it('rejects a wrong root, the unlabelled CSV, a missing image and a bad ClassId in one line', async () => {
    expect(await failure(a.classIds(tmp('gtsrb-empty'), 'test'))).toMatch(/no \.ppm images; expected ROOT\/GTSRB\/Final_Test\/Images\/\*\.ppm .* found an empty folder — extract/);
    const noGt = tmp('gtsrb-nogt');
    writeGtsrb(noGt, rows, { withGt: false });
    expect(await failure(collect(a, noGt))).toMatch(/no GT-final_test\.csv \(GT-final_test\.test\.csv beside them has no ClassId\) — extract GTSRB_Final_Test_GT\.zip/);
    const missing = tmp('gtsrb-missing');
    writeGtsrb(missing, rows, { missing: ['00002.ppm'] });
    expect(await failure(collect(a, missing))).toMatch(/1 of the 4 images listed in GT-final_test\.csv are not in .*: 00002\.ppm/);
    expect(() => parseGtsrbCsv('Filename;ClassId\n00000.ppm;43\n', 'x.csv')).toThrow(/row 2 .* ClassId outside 0–42/);
    expect(() => parseGtsrbCsv('Filename;Width\n00000.ppm;3\n', 'x.csv')).toThrow(/Filename and ClassId/);
  });

  it('evaluates by name: hand-written PPMs decode, labels stored as written', async () => {
    const root = tmp('gtsrb-e2e');
    writeGtsrb(root, rows);
    const { r, stored } = await evaluate('gtsrb', root);
    expect(r.n).toBe(4);
    expect(stored).toEqual(rows.map(([c, f]) => [`GTSRB/Final_Test/Images/${f}`, c]));
  });
});

// ---------------------------------------------------------------- Country211, Rendered SST2

describe('country211', () => {
  const a = getDataset('country211');
  const classes = promptKeys('country211');
  const entries = [[210, 'zw1.jpg'], [0, 'ad1.jpg'], [100, 'x.jpg'], [0, 'ad0.jpg']] as const;
  const expected: [string, number][] = [['AD/ad0.jpg', 0], ['AD/ad1.jpg', 0], [`${classes[100]}/x.jpg`, 100], ['ZW/zw1.jpg', 210]];

  it('labels are the sorted ISO-code folders; ROOT or ROOT/country211', async () => {
    const root = tmp('c211');
    await writeSplitFolders(root, 'country211', 'test', classes, entries);
    expect(classes).toHaveLength(211);
    expect(await a.classIds(root, 'test')).toEqual(classes);
    expect(await collect(a, root)).toEqual(expected);
    expect(await collect(a, path.join(root, 'country211'))).toEqual(expected);
  });

  it('rejects a wrong root, a missing class folder and a folder that is no country', async () => {
    const root = tmp('c211-bad');
    expect(await failure(a.classIds(root, 'test'))).toMatch(/no test\/ folder; expected ROOT\/country211\/\{test,valid,train\}\/.* found an empty folder/);
    await writeSplitFolders(root, 'country211', 'test', classes, entries);
    mkdirSync(path.join(root, 'country211', 'test', 'XX'));
    expect(await failure(a.classIds(root, 'test'))).toMatch(/1 folder\(s\) are not country211 classes: XX/);
    rmSync(path.join(root, 'country211', 'test', 'XX'), { recursive: true });
    rmSync(path.join(root, 'country211', 'test', 'AE'), { recursive: true });
    expect(await failure(collect(a, root))).toMatch(/found 210 of the 211 country211 class folders; missing AE/);
  });

  it('evaluates by name', async () => {
    const root = tmp('c211-e2e');
    await writeSplitFolders(root, 'country211', 'test', classes, entries);
    const { r, stored } = await evaluate('country211', root);
    expect(r.n).toBe(4);
    expect(stored).toEqual(expected);
  });
});

describe('sst2 (Rendered SST2)', () => {
  const a = getDataset('sst2');
  const entries = [[1, 'p0.png'], [0, 'n1.png'], [0, 'n0.png']] as const;
  const expected: [string, number][] = [['negative/n0.png', 0], ['negative/n1.png', 0], ['positive/p0.png', 1]];

  it('negative = 0, positive = 1, per split folder', async () => {
    const root = tmp('sst2');
    await writeSplitFolders(root, 'rendered-sst2', 'test', ['negative', 'positive'], entries);
    await writeSplitFolders(root, 'rendered-sst2', 'valid', ['negative', 'positive'], [[1, 'v.png']]);
    expect(await a.classIds(root, 'test')).toEqual(promptKeys('sst2'));
    expect(await collect(a, root)).toEqual(expected);
    expect(await collect(a, root, 'valid')).toEqual([['positive/v.png', 1]]);
    expect(await failure(collect(a, root, 'train'))).toMatch(/no train\/ folder; expected ROOT\/rendered-sst2\/.* found 1 folder \(rendered-sst2\)/);
  });

  it('evaluates by name', async () => {
    const root = tmp('sst2-e2e');
    await writeSplitFolders(root, 'rendered-sst2', 'test', ['negative', 'positive'], entries);
    const { r, stored } = await evaluate('sst2', root);
    expect(r.n).toBe(3);
    expect(stored).toEqual(expected);
  });
});

// ---------------------------------------------------------------- CLEVR counts

describe('clevr-counts', () => {
  const a = getDataset('clevr-counts');
  const counts = [3, 10, 5, 7, 3];

  it('label = number of objects in the scene (class id = the count, 3…10)', async () => {
    const root = tmp('clevr');
    const names = await writeClevr(root, 'val', counts);
    expect(await a.classIds(root, 'val')).toEqual([...CLEVR_COUNT_IDS]);
    expect([...CLEVR_COUNT_IDS].sort()).toEqual(promptKeys('clevr-counts').sort());
    const expected = names.map((n, i) => [`val/${n}`, CLEVR_COUNT_IDS.indexOf(String(counts[i]) as never)]);
    expect(expected.map(([, l]) => l)).toEqual([0, 7, 2, 4, 0]);
    expect(await collect(a, root)).toEqual(expected);
    expect(await collect(a, path.join(root, 'CLEVR_v1.0'))).toEqual(expected);
  });

  it('rejects a wrong root, a missing image and a count outside 3…10', async () => {
    expect(await failure(a.classIds(tmp('clevr-empty'), 'val'))).toMatch(/no images\/val\/ with scenes\/CLEVR_val_scenes\.json; expected ROOT\/CLEVR_v1\.0\/images.* found an empty folder/);
    const missing = tmp('clevr-missing');
    await writeClevr(missing, 'val', counts, { missing: [1] });
    expect(await failure(collect(a, missing))).toMatch(/1 of the 5 scenes' images are not in .*: CLEVR_val_000001\.png/);
    const eleven = tmp('clevr-11');
    await writeClevr(eleven, 'val', [3, 11]);
    expect(await failure(collect(a, eleven))).toMatch(/CLEVR_val_000001\.png has 11 objects; CLEVR counts are 3–10/);
  });

  it('evaluates by name', async () => {
    const root = tmp('clevr-e2e');
    const names = await writeClevr(root, 'val', counts);
    const { r, stored } = await evaluate('clevr-counts', root);
    expect(r.n).toBe(5);
    expect(stored).toEqual(names.map((n, i) => [`val/${n}`, counts[i] - 3]));
  });
});

// ---------------------------------------------------------------- KITTI distance

describe("numpy's legacy RandomState (TFDS's KITTI split)", () => {
  // Golden values from numpy 2.4.6:
  //   np.random.seed(123); np.random.permutation(71)[:10]
  //   np.random.seed(7); np.random.permutation(5); np.random.permutation(1000)[:5]
  //   np.random.seed(123); np.random.permutation(71); np.random.choice(['v%02d' % i for i in range(64)], 6, replace=False)
  it('reproduces numpy bit for bit', () => {
    expect(new LegacyRandomState(123).permutation(71).slice(0, 10)).toEqual([8, 45, 44, 37, 40, 31, 9, 29, 43, 1]);
    const r7 = new LegacyRandomState(7);
    expect(r7.permutation(5)).toEqual([0, 3, 2, 1, 4]);
    expect(r7.permutation(1000).slice(0, 5)).toEqual([113, 792, 740, 431, 242]);
    const v = Array.from({ length: 64 }, (_, i) => `v${String(i).padStart(2, '0')}`);
    const r123 = new LegacyRandomState(123);
    r123.permutation(71);
    expect(r123.choiceWithoutReplacement(v, 6)).toEqual(['v07', 'v32', 'v02', 'v45', 'v31', 'v58']);
  });
});

describe('kitti', () => {
  const a = getDataset('kitti');
  // 20 drives, image i from drive i % 20. numpy golden (seed 123, 20 sorted drives, 2 each):
  //   t = np.random.choice(sorted(d), 2, replace=False) → sorted indices 5, 14; then
  //   np.random.choice(sorted(set(d) - set(t)), 2, replace=False) → indices 7, 11
  const drives = Array.from({ length: 20 }, (_, i) => `2011_09_26_drive_${String(i + 1).padStart(4, '0')}_sync`);
  const driveOf = Array.from({ length: 40 }, (_, i) => i % 20);
  const testIds = [5, 14, 25, 34];
  const validationIds = [7, 11, 27, 31];
  const objects: string[][] = Array.from({ length: 40 }, () => [kittiObject('Car', 30)]);
  objects[5] = [kittiObject('Car', 5.0), kittiObject('Pedestrian', 2.0), KITTI_DONTCARE]; // 0: a pedestrian is not a vehicle
  objects[14] = [kittiObject('Van', '8.01'), kittiObject('Truck', 40)]; // 1
  objects[25] = [kittiObject('Car', '20.50'), kittiObject('Tram', 3)]; // 2: a tram is not a vehicle
  objects[34] = [kittiObject('Cyclist', 4), KITTI_DONTCARE]; // 3: no vehicle
  const expected: [string, number][] = testIds.map((id, i) => [`training/image_2/${String(id).padStart(6, '0')}.png`, i]);

  it("buckets the closest car/van/truck depth as VTAB does: thrs [-100, 8, 20, 999], label = max i with thrs[i] < dist", () => {
    const label = (...rows: string[]) => closestVehicleLabel(rows.join('\n'));
    expect(label(kittiObject('Car', '7.99'))).toBe(0);
    expect(label(kittiObject('Car', '8.00'))).toBe(0);
    expect(label(kittiObject('Car', '8.01'))).toBe(1);
    expect(label(kittiObject('Van', '20.00'))).toBe(1);
    expect(label(kittiObject('Truck', '20.01'))).toBe(2);
    expect(label(kittiObject('Car', '998.99'))).toBe(2);
    expect(label(kittiObject('Car', 50), kittiObject('Truck', '6.5'))).toBe(0); // the minimum over vehicles
    expect(label(kittiObject('Pedestrian', 3), kittiObject('Misc', 3), KITTI_DONTCARE)).toBe(3);
    expect(label()).toBe(3);
    // TFDS stores z as float32: 8.0000001 rounds to 8.0, so it is not beyond 8 m
    expect(Math.fround(8.0000001)).toBe(8);
    expect(label(kittiObject('Car', '8.0000001'))).toBe(0);
    expect(() => label(kittiObject('Bus', 3))).toThrow(/unknown object type "Bus"/);
  });

  it("splits by drive as TFDS kitti:3.1.0 (numpy seed 123, 10% of the drives each for test and validation)", async () => {
    const mappingRoot = tmp('kitti-map');
    await writeKitti(mappingRoot, { drives, driveOf, objects, images: false });
    const splits = kittiSplits(
      readFileSync(path.join(mappingRoot, 'mapping', 'train_rand.txt'), 'utf8'),
      readFileSync(path.join(mappingRoot, 'mapping', 'train_mapping.txt'), 'utf8'),
    );
    expect(splits.test).toEqual(testIds);
    expect(splits.validation).toEqual(validationIds);
    expect(splits.train).toEqual(driveOf.map((_, i) => i).filter((i) => !testIds.includes(i) && !validationIds.includes(i)));
  });

  it('labels the test split from label_2; rejects a wrong root and a missing devkit', async () => {
    const root = tmp('kitti');
    await writeKitti(root, { drives, driveOf, objects });
    expect(await a.classIds(root, 'test')).toEqual(promptKeys('kitti'));
    expect(await collect(a, root)).toEqual(expected);
    expect((await collect(a, root, 'validation')).map(([k]) => k)).toEqual(validationIds.map((id) => `training/image_2/${String(id).padStart(6, '0')}.png`));
    expect(await failure(a.classIds(tmp('kitti-empty'), 'test'))).toMatch(/no training\/image_2\/ with training\/label_2\/; expected ROOT\/training\/image_2\/.* found an empty folder/);
    rmSync(path.join(root, 'mapping'), { recursive: true });
    expect(await failure(collect(a, root))).toMatch(/not the devkit's mapping\/train_rand\.txt .* — extract devkit_object\.zip/);
  });

  it('evaluates by name', async () => {
    const root = tmp('kitti-e2e');
    await writeKitti(root, { drives, driveOf, objects });
    const { r, stored } = await evaluate('kitti', root);
    expect(r.n).toBe(4);
    expect(r.top5).toBeNull(); // four classes: top-5 is N/A
    expect(stored).toEqual(expected);
  });
});

// ---------------------------------------------------------------- roots as torchvision keeps them

describe("roots as torchvision's readers keep them", () => {
  it('gtsrb: ROOT/gtsrb/GTSRB/Final_Test/Images with ROOT/gtsrb/GT-final_test.csv (torchvision GTSRB(root))', async () => {
    const root = tmp('gtsrb-tv');
    const rows = [[3, '00000.ppm'], [40, '00001.ppm']] as const;
    writeGtsrb(path.join(root, 'gtsrb'), rows);
    expect(await collect(getDataset('gtsrb'), root)).toEqual(rows.map(([c, f]) => [`gtsrb/GTSRB/Final_Test/Images/${f}`, c]));
  });

  it('clevr-counts: ROOT/clevr/CLEVR_v1.0 (torchvision CLEVRClassification(root))', async () => {
    const root = tmp('clevr-tv');
    const names = await writeClevr(path.join(root, 'clevr'), 'val', [4, 9]);
    expect(await collect(getDataset('clevr-counts'), root, 'val')).toEqual([[`val/${names[0]}`, 1], [`val/${names[1]}`, 6]]);
  });

  it('kitti: ROOT/Kitti/raw/training (torchvision Kitti(root)), the devkit mapping beside training/ or in ROOT', async () => {
    const drives = Array.from({ length: 20 }, (_, i) => `2011_09_26_drive_${String(i + 1).padStart(4, '0')}_sync`);
    const driveOf = Array.from({ length: 40 }, (_, i) => i % 20);
    const objects = Array.from({ length: 40 }, () => [kittiObject('Car', 30)]);
    const root = tmp('kitti-tv');
    await writeKitti(path.join(root, 'Kitti', 'raw'), { drives, driveOf, objects });
    // image ids 5, 14, 25, 34 are the test split (the kitti golden above), all with a car at 30 m: class 2
    const expected = [5, 14, 25, 34].map((id) => [`training/image_2/${String(id).padStart(6, '0')}.png`, 2]);
    expect(await collect(getDataset('kitti'), root)).toEqual(expected);
    expect(await collect(getDataset('kitti'), path.join(root, 'Kitti'))).toEqual(expected);
    renameSync(path.join(root, 'Kitti', 'raw', 'mapping'), path.join(root, 'mapping'));
    expect(await collect(getDataset('kitti'), root)).toEqual(expected);
  });
});

// ---------------------------------------------------------------- VOC2007 (multi-label)

describe('voc2007', () => {
  const a = getDataset('voc2007');
  const images: { id: string; flags: Partial<Record<string, VocFlag>> }[] = [
    { id: '000001', flags: { dog: 1, person: 1 } },
    { id: '000002', flags: { cat: 0, chair: 1 } },
    { id: '000004', flags: { bird: 0 } },
    { id: '000006', flags: { aeroplane: 1, person: 1 } },
    { id: '000008', flags: { sofa: 1, tvmonitor: 1, person: 0 } },
    { id: '000010', flags: { dog: 1, cat: 1 } },
  ];
  const C = [...VOC_CLASSES];
  const targetsOf = (f: Partial<Record<string, VocFlag>>) => Uint8Array.from(C, (c) => (f[c] === 1 ? 1 : f[c] === 0 ? 255 : 0));
  // the first present class; an image with only difficult objects shows its first difficult class
  const labels = [C.indexOf('dog'), C.indexOf('chair'), C.indexOf('bird'), C.indexOf('aeroplane'), C.indexOf('sofa'), C.indexOf('cat')];

  it('targets per class from <class>_test.txt: 1 present, 0 absent, 255 difficult; label = first present class', async () => {
    const root = tmp('voc');
    await writeVoc(root, 'test', C, images);
    expect(C).toEqual(promptKeys('voc2007'));
    expect(a.multiLabel).toBe(true);
    expect(await a.classIds(root, 'test')).toEqual(C);
    const samples = await collectSamples(a, root);
    expect(samples.map((s) => [s.key, s.label])).toEqual(images.map((im, i) => [`JPEGImages/${im.id}.jpg`, labels[i]]));
    samples.forEach((s, i) => expect(Array.from(s.targets!)).toEqual(Array.from(targetsOf(images[i].flags))));
    for (const r of [path.join(root, 'VOCdevkit'), path.join(root, 'VOCdevkit', 'VOC2007')]) expect((await collect(a, r)).length).toBe(images.length);
  });

  it('rejects a wrong root, missing test annotations and class files that disagree', async () => {
    expect(await failure(a.classIds(tmp('voc-empty'), 'test'))).toMatch(/no VOC2007 folder with ImageSets\/Main\/ and JPEGImages\/; expected ROOT\/VOCdevkit\/VOC2007\/ImageSets\/Main\/<class>_test\.txt .* found an empty folder/);
    const root = tmp('voc-trainval');
    await writeVoc(root, 'trainval', C, images.slice(0, 2));
    expect(await failure(collect(a, root))).toMatch(/aeroplane_test\.txt: file not found .* — extract VOCtest_06-Nov-2007\.tar/);
    expect((await collect(a, root, 'trainval')).length).toBe(2);
    write(root, 'VOCdevkit/VOC2007/ImageSets/Main/cow_trainval.txt', '000001 -1\n');
    expect(await failure(collect(a, root, 'trainval'))).toMatch(/cow_trainval\.txt: lists 1 images, not the same 2 as aeroplane_trainval\.txt/);
  });

  it('evaluates by name with every class logit stored; the stored 11-point mAP = elevenPointMap(stored scores, written targets)', async () => {
    const root = tmp('voc-e2e');
    await writeVoc(root, 'test', C, images);
    const { r, run, rows, stored } = await evaluate('voc2007', root);
    expect(r.n).toBe(images.length);
    expect(stored).toEqual(images.map((im, i) => [`JPEGImages/${im.id}.jpg`, labels[i]]));
    expect(r.headline).toBe('map-11pt');
    const scores = new Float32Array(rows.length * C.length);
    const targets = new Uint8Array(rows.length * C.length);
    rows.forEach((row, i) => {
      expect(row.scores).toHaveLength(C.length);
      expect(Array.from(row.targets!)).toEqual(Array.from(targetsOf(images[i].flags)));
      scores.set(row.scores!, i * C.length);
      targets.set(targetsOf(images[i].flags), i * C.length);
      // the stored top-5 are the five largest stored scores
      expect(row.top5Logits![0]).toBeCloseTo(Math.max(...row.scores!), 3);
    });
    const map = elevenPointMap(scores, targets, C.length);
    expect(map).toBeGreaterThan(0);
    expect(r.headlineValue).toBe(map);
    expect((run.metrics!['map-11pt'] as { value: number }).value).toBe(map);
  });
});

// ---------------------------------------------------------------- Birdsnap

describe('birdsnap', () => {
  const a = getDataset('birdsnap');
  const keys = promptKeys('birdsnap');
  const real: Record<string, string> = { 'Coopers Hawk': "Cooper's Hawk", 'Sharp shinned Hawk': 'Sharp-shinned Hawk', 'Harriss Hawk': "Harris's Hawk" };
  // species.txt in another order than the class ids (ids 1…500 are not the label order)
  const species: BirdSpecies[] = [...keys].reverse().map((k) => ({ common: real[k] ?? k, dir: k.replace(/ /g, '_') }));
  const sp = (name: string) => species.findIndex((s) => s.dir === name.replace(/ /g, '_'));
  const test = [[sp('Coopers Hawk'), '0561.jpg'], [sp('Zone tailed Hawk'), '8306.jpg'], [sp('Acadian Flycatcher'), '0001.jpg'], [sp('Sharp shinned Hawk'), '3785.jpg']] as const;
  const dead = 'Zone_tailed_Hawk/8306.jpg';
  const expected: [string, number][] = [
    ['Coopers_Hawk/0561.jpg', keys.indexOf('Coopers Hawk')],
    ['Acadian_Flycatcher/0001.jpg', 0],
    ['Sharp_shinned_Hawk/3785.jpg', keys.indexOf('Sharp shinned Hawk')],
  ];

  it('labels are the species as CLIP names them, in test_images.txt order; images that could not be downloaded are skipped', async () => {
    const root = tmp('birdsnap');
    await writeBirdsnap(root, species, test, [dead]);
    expect(await a.classIds(root, 'test')).toEqual(keys);
    expect(await collect(a, root)).toEqual(expected);
    expect(await collect(a, path.join(root, 'birdsnap'))).toEqual(expected);
  });

  it("maps species.txt by dir, else by CLIP's spelling of the common name; rejects unknown species", () => {
    const header = 'id\tcommon\tscientific\tdir';
    const byDir = parseBirdsnapSpecies([header, "1\tAllen's Hummingbird\tSelasphorus sasin\tallens-hb", ...keys.filter((k) => k !== 'Allens Hummingbird').map((k, i) => `${i + 2}\t${k}\tx\t${k.replace(/ /g, '_')}`)].join('\n'), 's.txt', keys);
    expect(byDir.get('allens-hb')).toBe('Allens Hummingbird');
    expect(() => parseBirdsnapSpecies(`${header}\n1\tDodo\tRaphus\tDodo\n`, 's.txt', keys)).toThrow(/1 species match no class of the birdsnap prompt set: Dodo/);
  });

  it('rejects a wrong root, undownloaded images and a list without images', async () => {
    expect(await failure(a.classIds(tmp('birdsnap-empty'), 'test'))).toMatch(/no species\.txt with test_images\.txt; expected ROOT\/species\.txt.* found an empty folder/);
    const root = tmp('birdsnap-nodl');
    await writeBirdsnap(root, species, test, test.map(([s, f]) => `${species[s].dir}/${f}`));
    mkdirSync(path.join(root, 'birdsnap', 'download', 'images'), { recursive: true }); // get_birdsnap.py ran, every link dead
    expect(await failure(collect(a, root))).toMatch(/none of the 4 test images of test_images\.txt is under .*download\/images — run get_birdsnap\.py/);
    rmSync(path.join(root, 'birdsnap', 'download'), { recursive: true });
    expect(await failure(collect(a, root))).toMatch(/found the Birdsnap lists but no download\/images\/ folder/);
  });

  it('evaluates by name', async () => {
    const root = tmp('birdsnap-e2e');
    await writeBirdsnap(root, species, test, [dead]);
    const { r, stored } = await evaluate('birdsnap', root);
    expect(r.n).toBe(3);
    expect(stored).toEqual(expected);
  });
});

// ---------------------------------------------------------------- UCF101

describe('ucf101', () => {
  const a = getDataset('ucf101');
  const classes = promptKeys('ucf101');
  const hs = classes.indexOf('HandstandPushups');
  const test = [[0, 'v_ApplyEyeMakeup_g01_c01'], [hs, 'v_HandStandPushups_g01_c01'], [100, 'v_YoYo_g07_c04'], [0, 'v_ApplyEyeMakeup_g02_c03']] as const;
  const expected: [string, number][] = test.map(([c, v]) => [`${classes[c]}/${v}.png`, c]);

  it('testlist01 names the videos; each is scored on its extracted frame; label = classInd index − 1', async () => {
    const root = tmp('ucf');
    await writeUcf101(root, classes, test, { extraFrames: [[5, 'v_BandMarching_g01_c01']] });
    expect(classes).toHaveLength(101);
    expect(await a.classIds(root, 'testlist01')).toEqual(classes);
    expect(await collect(a, root)).toEqual(expected);
    // --split frames: every frame under the class folders, class-major
    expect(await collect(a, root, 'frames')).toEqual([
      [`${classes[0]}/v_ApplyEyeMakeup_g01_c01.png`, 0],
      [`${classes[0]}/v_ApplyEyeMakeup_g02_c03.png`, 0],
      [`${classes[5]}/v_BandMarching_g01_c01.png`, 5],
      [`${classes[hs]}/v_HandStandPushups_g01_c01.png`, hs],
      [`${classes[100]}/v_YoYo_g07_c04.png`, 100],
    ]);
    const jpg = tmp('ucf-jpg');
    await writeUcf101(jpg, classes, test, { ext: 'jpg' });
    expect(await collect(a, jpg)).toEqual(test.map(([c, v]) => [`${classes[c]}/${v}.jpg`, c]));
  });

  it('rejects missing frames, a missing list and a classInd.txt in another order', async () => {
    const root = tmp('ucf-bad');
    await writeUcf101(root, classes, test, { noFrame: ['v_YoYo_g07_c04'] });
    expect(await failure(collect(a, root))).toMatch(/1 of the videos in testlist01\.txt have no extracted frame .*: YoYo\/v_YoYo_g07_c04 — extract the middle frame/);
    expect(await failure(collect(a, root, 'testlist02'))).toMatch(/no ucfTrainTestlist\/testlist02\.txt here \(2 class folders of frames are\); expected ROOT\/<Class>.* — .*--split frames/);
    const swapped = [classes[1], classes[0], ...classes.slice(2)];
    write(root, 'ucfTrainTestlist/classInd.txt', swapped.map((c, i) => `${i + 1} ${c}`).join('\r\n') + '\r\n');
    expect(await failure(a.classIds(root, 'testlist01'))).toMatch(/classInd\.txt: line 1 is "1 ApplyLipstick", expected "1 ApplyEyeMakeup"/);
    expect(await failure(collect(a, tmp('ucf-empty'), 'frames'))).toMatch(/expected the 101 UCF101 class folders \(e\.g\. ApplyEyeMakeup\/\), found an empty folder/);
  });

  it('evaluates by name', async () => {
    const root = tmp('ucf-e2e');
    await writeUcf101(root, classes, test);
    const { r, stored } = await evaluate('ucf101', root, { prompts: oneTemplate.ucf101 });
    expect(r.n).toBe(4);
    expect(stored).toEqual(expected);
  });
});

// ---------------------------------------------------------------- Kinetics-700

describe('kinetics700', () => {
  const a = getDataset('kinetics700');
  const classes = promptKeys('kinetics700');
  const pet = classes.indexOf('petting animal (not cat)');
  const entries = [[699, 'zzz_000010_000020.jpg'], [pet, 'pet.png'], [0, 'abc_000001_000011.jpg']] as const;
  const expected: [string, number][] = [['abseiling/abc_000001_000011.jpg', 0], ['petting animal (not cat)/pet.png', pet], ['zumba/zzz_000010_000020.jpg', 699]];

  it('labels index the 700 sorted label strings; class folders as written or with underscores', async () => {
    const root = tmp('k700');
    await writeKinetics(root, classes, entries);
    expect(classes).toHaveLength(700);
    expect(await a.classIds(root, 'val')).toEqual(classes);
    expect(await collect(a, root)).toEqual(expected);
    expect(await collect(a, path.join(root, 'val'))).toEqual(expected);
    const under = tmp('k700-underscore');
    await writeKinetics(under, classes, entries, (c) => c.replace(/ /g, '_'));
    expect(await collect(a, under)).toEqual(expected.map(([k, l]) => [k.replace('petting animal (not cat)', 'petting_animal_(not_cat)'), l]));
  });

  it('rejects a wrong root and a missing class folder', async () => {
    expect(await failure(a.classIds(tmp('k700-empty'), 'val'))).toMatch(/no val\/ folder of class folders; expected ROOT\/val\/<class name>.* found an empty folder/);
    const root = tmp('k700-missing');
    await writeKinetics(root, classes, entries);
    rmSync(path.join(root, 'val', 'yoga'), { recursive: true });
    expect(await failure(a.classIds(root, 'val'))).toMatch(/found 699 of the 700 Kinetics-700 class folders; missing yoga/);
  });

  it('evaluates by name; the headline is mean(top-1, top-5)', async () => {
    const root = tmp('k700-e2e');
    await writeKinetics(root, classes, entries);
    const { r, rows, stored } = await evaluate('kinetics700', root, { prompts: oneTemplate.kinetics700 });
    expect(r.n).toBe(3);
    expect(stored).toEqual(expected);
    const top1 = rows.filter((p) => p.top5![0] === p.label).length / rows.length;
    const top5 = rows.filter((p) => p.top5!.includes(p.label)).length / rows.length;
    expect(r.headline).toBe('mean-top1-top5');
    expect(r.headlineValue).toBe((top1 + top5) / 2);
  });
});

// ---------------------------------------------------------------- Hateful Memes

describe('hateful-memes', () => {
  const a = getDataset('hateful-memes');
  const memes = [
    { id: 42953, label: 0, text: 'its their character not their color that matters' },
    { id: 23058, label: 1, text: 'a meme' },
    { id: 13894, label: 1, text: 'another meme' },
    { id: 37408, label: 0, text: 'a third' },
    { id: 1765, label: 0, text: 'a fourth' },
    { id: 82403, label: 1, text: 'a fifth' },
  ] as const;
  const expected: [string, number][] = memes.map((m) => [`img/${String(m.id).padStart(5, '0')}.png`, m.label]);

  it('labels are the jsonl "label" field, in file order; ROOT or ROOT/data', async () => {
    const root = tmp('memes');
    await writeHatefulMemes(root, 'dev_seen', [...memes]);
    expect(await a.classIds(root, 'dev_seen')).toEqual(promptKeys('hateful-memes'));
    expect(await collect(a, root)).toEqual(expected);
    expect(await collect(a, path.join(root, 'data'))).toEqual(expected);
  });

  it('rejects a wrong root, a missing image and an unlabelled file', async () => {
    expect(await failure(a.classIds(tmp('memes-empty'), 'dev_seen'))).toMatch(/no img\/ with dev_seen\.jsonl; expected ROOT\/img\/<id>\.png .* found an empty folder/);
    const root = tmp('memes-bad');
    await writeHatefulMemes(root, 'dev_seen', [...memes]);
    rmSync(path.join(root, 'data', 'img', '23058.png'));
    expect(await failure(collect(a, root))).toMatch(/1 of the 6 memes' images are not under img\/: img\/23058\.png/);
    write(root, 'data/test_unseen.jsonl', '{"id": 1, "img": "img/00001.png", "text": "x"}\n');
    expect(await failure(collect(a, root, 'test_unseen'))).toMatch(/line 1 has no "img" path or no label 0\/1 \(unlabelled test files cannot be scored\)/);
  });

  it('evaluates by name; the headline is the ROC AUC of class 1, computed from the stored logits', async () => {
    const root = tmp('memes-e2e');
    await writeHatefulMemes(root, 'dev_seen', [...memes]);
    const { r, rows, stored } = await evaluate('hateful-memes', root);
    expect(r.n).toBe(6);
    expect(stored).toEqual(expected);
    expect(r.headline).toBe('roc-auc');
    const scores = rows.map((p) => p.top5Logits![p.top5!.indexOf(1)] - p.top5Logits![p.top5!.indexOf(0)]);
    const auc = rocAuc(scores, memes.map((m) => m.label));
    expect(auc).not.toBeNull();
    expect(r.headlineValue).toBe(auc);
  });
});
