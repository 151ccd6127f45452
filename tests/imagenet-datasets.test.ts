import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectImagenetVal, imagenet, imagenetSubsetPlan } from '../src/datasets/imagenet.js';
import { objectnet, objectnetClasses, OBJECTNET_MAPPINGS } from '../src/datasets/imagenet-objectnet.js';
import { imagenetA, imagenetR, imagenetSketch, imagenetV2 } from '../src/datasets/imagenet-variants.js';
import { parseGroundTruth, parseKaggleSolution } from '../src/datasets/imagenet-devkit.js';
import { getDataset, type DatasetAdapter, type Sample } from '../src/datasets/index.js';
import { imagenetSubsetWnids, imagenetWnidIndex, isImagenetWnid, validateWnidList } from '../src/datasets/wnids.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { writeMat } from './support/mat5-writer.js';
import { dirs, GT, metaMat, objectnetMappings, perm, tmp, touch, valName, W, write } from './support/imagenet-fixtures.js';
import { usageFailure as failure } from './support/usage-failure.js';

async function collect(a: DatasetAdapter, root: string): Promise<[string, number][]> {
  const out: Sample[] = [];
  for await (const s of a.samples(root, a.splits[0])) {
    expect(s.path).toBe(path.join(s.path.slice(0, s.path.length - s.key.length), s.key));
    out.push(s);
  }
  return out.map((s) => [s.key, s.label]);
}


async function samplesFailure(a: DatasetAdapter, root: string): Promise<string> {
  return failure(collect(a, root));
}

describe('ImageNet class list', () => {
  it('is the 1000 ascending wnids, with the class indices PyTorch/torchvision use', () => {
    expect(W).toHaveLength(1000);
    expect(W[0]).toBe('n01440764');
    expect(W[999]).toBe('n15075141');
    // ObjectNet's pytorch_to_imagenet_2012_id.json: PyTorch 278 ↔ devkit ILSVRC2012_ID 1 (kit fox), 212 ↔ 2 (English setter)
    expect(imagenetWnidIndex().get('n02119789')).toBe(278);
    expect(imagenetWnidIndex().get('n02100735')).toBe(212);
    expect(isImagenetWnid('n01440764')).toBe(true);
    expect(isImagenetWnid('n99999999')).toBe(false);
    expect(() => validateWnidList(['n01440764'], 'x.json')).toThrow(/exactly 1000/);
    expect(() => validateWnidList([...W.slice(0, 999), W[0]], 'x.json')).toThrow(/strictly ascending/);
  });

  it('is exactly the class set of the imagenet prompts', () => {
    expect(Object.keys(loadPromptSet('imagenet').classes!).sort()).toEqual([...W]);
  });
});

// ---------------------------------------------------------------- imagenet (val)

describe('imagenet: (a) WordNet-id ImageFolder', () => {
  it('labels by wnid index, keys are <wnid>/<file>, classIds are the 1000 wnids', async () => {
    const root = tmp('in-a');
    dirs(root, W);
    touch(root, `${W[999]}/z.JPEG`, `${W[0]}/ILSVRC2012_val_00000293.JPEG`, `${W[0]}/b.jpeg`, `${W[500]}/sub/x.png`, `${W[500]}/notes.txt`);
    expect(await imagenet.classIds(root)).toEqual([...W]);
    expect(await collect(imagenet, root)).toEqual([
      [`${W[0]}/ILSVRC2012_val_00000293.JPEG`, 0],
      [`${W[0]}/b.jpeg`, 0],
      [`${W[500]}/sub/x.png`, 500],
      [`${W[999]}/z.JPEG`, 999],
    ]);
  });

  it("accepts torchvision's ROOT/val/<wnid>/ beside train/", async () => {
    const root = tmp('in-a-val');
    dirs(root, ['train', 'ILSVRC2012_devkit_t12']);
    dirs(path.join(root, 'val'), W);
    touch(root, `val/${W[3]}/a.JPEG`);
    expect((await detectImagenetVal(root)).kind).toBe('folders');
    expect(await collect(imagenet, root)).toEqual([[`${W[3]}/a.JPEG`, 3]]);
  });

  it('rejects wrong folder names, unknown wnids and incomplete class sets', async () => {
    const root = tmp('in-a-bad');
    dirs(root, [...W, 'cat']);
    expect(await failure(imagenet.classIds(root))).toMatch(/1 of 1001 class folders are not ImageNet WordNet ids: cat — .*1000 ILSVRC-2012 WordNet-id folders/);
    rmSync(path.join(root, 'cat'), { recursive: true });
    dirs(root, ['n99999999']);
    expect(await samplesFailure(imagenet, root)).toMatch(/class folders are WordNet ids outside the 1000 ImageNet classes: n99999999/);
    const few = tmp('in-a-few');
    dirs(few, [W[0], W[1], W[2]]);
    expect(await failure(imagenet.classIds(few))).toMatch(new RegExp(`found 3 of the 1000 ImageNet class folders; missing ${W[3]}, ${W[4]}, ${W[5]}, ${W[6]}, … \\(993 more\\) — .*use --dataset imagefolder`));
    const empty = tmp('in-a-empty');
    dirs(empty, W);
    expect(await samplesFailure(imagenet, empty)).toMatch(/no images found under the 1000 class folders/);
  });
});

describe('imagenet: (b) flat folder + devkit', () => {
  /** Expected (key, label): line n of the ground truth is image n; label = index of meta.mat's wnid for that id. */
  const expected = GT.map((id, i) => [valName(i + 1), perm(id)] as [string, number]);

  it('maps ILSVRC2012_IDs through meta.mat (compressed) in ROOT/ILSVRC2012_devkit_t12/data/', async () => {
    const root = tmp('in-b');
    touch(root, ...GT.map((_, i) => valName(i + 1)).reverse(), 'LICENSE.txt');
    write(root, 'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt', GT.join('\n') + '\n');
    write(root, 'ILSVRC2012_devkit_t12/data/meta.mat', metaMat(true));
    expect((await detectImagenetVal(root)).kind).toBe('devkit');
    expect(await imagenet.classIds(root)).toEqual([...W]);
    const got = await collect(imagenet, root);
    expect(got).toEqual(expected);
    // the devkit's ILSVRC2012_ID 1 is kit fox (class 278), 2 is English setter (212): ids are not class indices
    expect(got.slice(0, 2)).toEqual([
      [valName(1), 278],
      [valName(2), 212],
    ]);
  });

  it('accepts both devkit files directly in ROOT (uncompressed meta.mat, CRLF, no final newline)', async () => {
    const root = tmp('in-b2');
    touch(root, ...GT.map((_, i) => valName(i + 1)));
    write(root, 'ILSVRC2012_validation_ground_truth.txt', GT.join('\r\n'));
    write(root, 'meta.mat', metaMat(false));
    expect(await collect(imagenet, root)).toEqual(expected);
  });

  it('explains a missing meta.mat, a line count that differs from the image count, bad ids and unknown wnids', async () => {
    const root = tmp('in-b-bad');
    touch(root, ...GT.map((_, i) => valName(i + 1)));
    const gt = path.join(root, 'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt');
    write(root, 'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt', GT.join('\n') + '\n');
    expect(await failure(imagenet.classIds(root))).toBe(
      `${path.join(root, 'ILSVRC2012_devkit_t12/data/meta.mat')}: found ILSVRC2012_validation_ground_truth.txt but no meta.mat beside it: the ground truth holds devkit ILSVRC2012_IDs, which only meta.mat maps to WordNet ids — extract the whole ILSVRC2012_devkit_t12 archive (its data/ folder has both files)`,
    );
    write(root, 'ILSVRC2012_devkit_t12/data/meta.mat', metaMat(true));
    write(root, 'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt', GT.slice(0, 5).join('\n') + '\n');
    expect(await samplesFailure(imagenet, root)).toMatch(new RegExp(`^${gt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the ground truth has 5 lines but .* holds 6 ILSVRC2012_val_\\*\\.JPEG images`));
    write(root, 'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt', [...GT.slice(0, 5), 1001].join('\n'));
    expect(await samplesFailure(imagenet, root)).toMatch(/line 6 is "1001", not an ILSVRC2012_ID between 1 and 1000/);
    write(root, 'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt', GT.join('\n'));
    write(root, 'ILSVRC2012_devkit_t12/data/meta.mat', metaMat(true, (id) => (id === 500 ? 'n99999999' : W[perm(id)])));
    expect(await samplesFailure(imagenet, root)).toMatch(/meta\.mat: ILSVRC2012_ID 500 maps to "n99999999", which is not one of the 1000 ImageNet class wnids/);
    write(root, 'ILSVRC2012_devkit_t12/data/meta.mat', writeMat({ other: { numeric: [1] } }));
    expect(await samplesFailure(imagenet, root)).toMatch(/meta\.mat: MAT-file: no variable "synsets"; the file holds other \(1×1 double\)/);
    // an image number beyond the ground truth
    rmSync(path.join(root, valName(6)));
    touch(root, valName(7));
    write(root, 'ILSVRC2012_devkit_t12/data/meta.mat', metaMat(true));
    expect(await samplesFailure(imagenet, root)).toMatch(/ILSVRC2012_val_00000007\.JPEG has no line in the ground truth \(6 lines\)/);
  });

  it('parses ground truth strictly', () => {
    expect(parseGroundTruth('1\n2\n\n')).toEqual([1, 2]);
    expect(() => parseGroundTruth('1\n\n2\n', 'gt.txt')).toThrow(/line 2 is "", not an ILSVRC2012_ID/);
    expect(() => parseGroundTruth('0\n')).toThrow(/line 1 is "0"/);
  });
});

describe('imagenet: (c) flat folder + Kaggle LOC_val_solution.csv', () => {
  const rows: [number, number][] = [
    [3, 999],
    [1, 0],
    [2, 65],
    [4, 0],
  ];
  const csv = (rs: [number, string][]) => ['ImageId,PredictionString', ...rs.map(([n, w]) => `ILSVRC2012_val_${String(n).padStart(8, '0')},${w} 12 30 200 180 ${w} 1 2 3 4 `)].join('\r\n') + '\r\n';

  it("reads Kaggle's tree (ROOT/ILSVRC/Data/CLS-LOC/val/) with the CSV in ROOT; the first wnid is the class", async () => {
    const root = tmp('in-c');
    touch(root, ...rows.map(([n]) => `ILSVRC/Data/CLS-LOC/val/${valName(n)}`));
    write(root, 'LOC_val_solution.csv', csv(rows.map(([n, c]) => [n, W[c]])));
    touch(root, 'LOC_synset_mapping.txt', 'LOC_sample_submission.csv');
    expect((await detectImagenetVal(root)).kind).toBe('kaggle');
    expect(await collect(imagenet, root)).toEqual([
      [valName(1), 0],
      [valName(2), 65],
      [valName(3), 999],
      [valName(4), 0],
    ]);
  });

  it('reads the flat images in ROOT; explains unknown wnids, missing rows and count mismatches', async () => {
    const root = tmp('in-c2');
    touch(root, ...rows.map(([n]) => valName(n)));
    write(root, 'LOC_val_solution.csv', csv(rows.map(([n, c]) => [n, W[c]])));
    expect((await collect(imagenet, root)).map(([, l]) => l)).toEqual([0, 65, 999, 0]);
    write(root, 'LOC_val_solution.csv', csv(rows.map(([n, c]) => [n, n === 2 ? 'n99999999' : W[c]])));
    expect(await samplesFailure(imagenet, root)).toMatch(/LOC_val_solution\.csv: line \d \(ILSVRC2012_val_00000002\): n99999999 is not one of the 1000 ImageNet class wnids/);
    write(root, 'LOC_val_solution.csv', csv([...rows.slice(1).map(([n, c]) => [n, W[c]] as [number, string]), [9, W[1]]]));
    expect(await samplesFailure(imagenet, root)).toMatch(/ILSVRC2012_val_00000003\.JPEG has no row \(ImageId ILSVRC2012_val_00000003\)/);
    write(root, 'LOC_val_solution.csv', csv(rows.slice(1).map(([n, c]) => [n, W[c]])));
    expect(await samplesFailure(imagenet, root)).toMatch(/LOC_val_solution\.csv labels 3 images but .* holds 4/);
    expect(() => parseKaggleSolution('id,label\n', 'k.csv')).toThrow(/expected "ImageId,PredictionString"/);
  });
});

describe('imagenet: unrecognised layouts', () => {
  it('says which three layouts were expected and what was found', async () => {
    const root = tmp('in-none');
    dirs(root, ['foo']);
    touch(root, 'readme.txt');
    const msg = await failure(imagenet.classIds(root));
    expect(msg).toContain(`${root}: found 1 folder (foo) and 1 file (readme.txt); expected one of the ImageNet validation layouts: (a) ROOT/<wnid>/*.JPEG`);
    expect(msg).toContain('(b) ROOT/ILSVRC2012_val_00000001.JPEG … with ROOT/ILSVRC2012_devkit_t12/data/{ILSVRC2012_validation_ground_truth.txt,meta.mat}');
    expect(msg).toContain('(c) ROOT/ILSVRC2012_val_*.JPEG (or ROOT/ILSVRC/Data/CLS-LOC/val/) with ROOT/LOC_val_solution.csv');
    touch(root, 'ILSVRC2012_img_val.tar');
    expect(await failure(imagenet.classIds(root))).toMatch(/— extract ILSVRC2012_img_val\.tar/);
    expect(await failure(imagenet.classIds(path.join(root, 'nope')))).toMatch(/nope: dataset root does not exist/);
  });

  it('names flat images without labels, and the devkit archive to extract', async () => {
    const root = tmp('in-nolabels');
    touch(root, valName(1), valName(2), 'ILSVRC2012_devkit_t12.tar.gz');
    expect(await failure(imagenet.classIds(root))).toMatch(/found 2 ILSVRC2012_val_\*\.JPEG images in .* but no labels for them; expected one of .* — extract ILSVRC2012_devkit_t12\.tar\.gz into ROOT/);
  });
});

// ---------------------------------------------------------------- variants

describe('imagenet-v2', () => {
  const folders = Array.from({ length: 1000 }, (_, i) => String(i));

  it('labels by the folder integer, not by string order of folder names', async () => {
    const root = tmp('v2');
    dirs(root, folders);
    touch(root, '10/a.jpeg', '2/b.jpeg', '2/a.jpeg', '0/c.jpeg', '999/d.jpeg');
    expect(await imagenetV2.classIds(root)).toEqual([...W]);
    expect(await collect(imagenetV2, root)).toEqual([
      ['0/c.jpeg', 0],
      ['2/a.jpeg', 2],
      ['2/b.jpeg', 2],
      ['10/a.jpeg', 10],
      ['999/d.jpeg', 999],
    ]);
  });

  it('rejects other folder names, missing folders and a parent of several variants', async () => {
    const root = tmp('v2-bad');
    dirs(root, [...folders, 'n01440764']);
    expect(await failure(imagenetV2.classIds(root))).toMatch(/1 folder\(s\) are not named by an ImageNet class index 0 … 999: n01440764/);
    const few = tmp('v2-few');
    dirs(few, ['0', '1', '3']);
    expect(await failure(imagenetV2.classIds(few))).toMatch(/found 3 of the 1000 class folders; missing 2, 4, 5/);
    const parent = tmp('v2-parent');
    dirs(parent, ['imagenetv2-matched-frequency-format-val', 'imagenetv2-top-images-format-val']);
    expect(await failure(imagenetV2.classIds(parent))).toMatch(/holds 2 ImageNetV2 variant folder\(s\).* — pass one variant as --root, e.g\. imagenetv2-matched-frequency-format-val\//);
    const wnidTree = tmp('v2-wnids');
    dirs(wnidTree, W);
    expect(await failure(imagenetV2.classIds(wnidTree))).toMatch(/expected ImageNetV2's class folders 0 … 999 \(named by ImageNet class index\), found 1000 folders/);
  });
});

describe('imagenet-sketch', () => {
  it('reads ROOT/sketch/<wnid>/ from ROOT or ROOT/sketch, with the same keys and labels', async () => {
    const root = tmp('sketch');
    dirs(path.join(root, 'sketch'), W);
    touch(root, `sketch/${W[7]}/sketch_1.JPEG`, `sketch/${W[7]}/sketch_0.JPEG`, `sketch/${W[998]}/x.JPEG`);
    const expected = [
      [`${W[7]}/sketch_0.JPEG`, 7],
      [`${W[7]}/sketch_1.JPEG`, 7],
      [`${W[998]}/x.JPEG`, 998],
    ];
    expect(await collect(imagenetSketch, root)).toEqual(expected);
    expect(await collect(imagenetSketch, path.join(root, 'sketch'))).toEqual(expected);
    expect(await imagenetSketch.classIds(root)).toEqual([...W]);
    rmSync(path.join(root, 'sketch', W[5]), { recursive: true });
    expect(await failure(imagenetSketch.classIds(root))).toMatch(new RegExp(`sketch: found 999 of the 1000 ImageNet class folders; missing ${W[5]} — pass the ImageNet-Sketch folder`));
  });
});

describe('imagenet-r and imagenet-a', () => {
  const R = imagenetSubsetWnids('imagenet-r', 200);
  const A = imagenetSubsetWnids('imagenet-a', 200);

  it("ship hendrycks' canonical 200-wnid lists: ascending ImageNet-1k wnids, the two lists different", () => {
    for (const list of [R, A]) {
      expect(list).toHaveLength(200);
      expect([...list].sort()).toEqual(list);
      expect(list.every((w) => W.includes(w))).toBe(true);
    }
    // spot checks against the papers' class lists: goldfish is in ImageNet-R, stingray in ImageNet-A, tench in neither
    expect(R).toContain('n01443537');
    expect(A).toContain('n01498041');
    expect(R).not.toContain(W[0]);
    expect(A).not.toContain(W[0]);
    expect(R.filter((w) => A.includes(w))).toHaveLength(86);
  });

  for (const [adapter, sub, subset] of [
    [imagenetR, 'imagenet-r', R],
    [imagenetA, 'imagenet-a', A],
  ] as const) {
    it(`${adapter.id}: classes are the sorted folders, labels their positions, plan = 200 ImageNet classes`, async () => {
      const root = tmp(sub);
      dirs(path.join(root, sub), [...subset].reverse());
      touch(root, `${sub}/README.txt`, `${sub}/${subset[0]}/art_0.jpg`, `${sub}/${subset[199]}/b.jpg`, `${sub}/${subset[100]}/a.png`);
      for (const r of [root, path.join(root, sub)]) {
        expect(await adapter.classIds(r, 'test')).toEqual(subset);
        expect(await collect(adapter, r)).toEqual([
          [`${subset[0]}/art_0.jpg`, 0],
          [`${subset[100]}/a.png`, 100],
          [`${subset[199]}/b.jpg`, 199],
        ]);
        const plan = (await adapter.classifierPlan!(r, 'test'))!;
        expect(plan.promptClassIds).toEqual(subset);
        expect(plan.groups).toEqual(subset.map((_, i) => [i]));
        expect(plan.description).toBe(`${sub}: 200-class subset of ImageNet`);
      }
    });
  }

  it('a partial archive is refused, naming the missing wnids', async () => {
    const root = tmp('r-partial');
    dirs(root, R.filter((_, i) => i !== 3 && i !== 150));
    touch(root, `${R[0]}/a.jpg`);
    expect(await failure(imagenetR.classIds(root, 'test'))).toMatch(new RegExp(`found 198 of the 200 ImageNet-R class folders; missing ${R[3]}, ${R[150]} — extract the whole imagenet-r\\.tar`));
    await expect(collect(imagenetR, root)).rejects.toThrow(/found 198 of the 200/);
    await expect(imagenetR.classifierPlan!(root, 'test')).rejects.toThrow(/found 198 of the 200/);
  });

  it('ImageNet-A passed as imagenet-r (and the reverse) is refused and named', async () => {
    const a = tmp('a-as-r');
    dirs(path.join(a, 'imagenet-a'), A);
    const onlyA = A.filter((w) => !R.includes(w));
    expect(await failure(imagenetR.classIds(path.join(a, 'imagenet-a'), 'test'))).toMatch(
      new RegExp(`found 86 of the 200 ImageNet-R class folders; missing .*; not ImageNet-R classes: ${onlyA[0]}, .*\\(${onlyA.length - 5} more\\); this looks like ImageNet-A — pass --dataset imagenet-a`),
    );
    const r = tmp('r-as-a');
    dirs(r, R);
    expect(await failure(imagenetA.classIds(r, 'test'))).toMatch(/this looks like ImageNet-R — pass --dataset imagenet-r/);
    // an ImageNet class in neither list: not either dataset
    dirs(r, [W[0]]);
    expect(await failure(imagenetA.classIds(r, 'test'))).not.toMatch(/looks like/);
  });

  it('rejects folders that are not ImageNet wnids', async () => {
    const root = tmp('r-bad');
    dirs(root, [...R.slice(0, 199), 'n99999999']);
    expect(await failure(imagenetR.classIds(root, 'test'))).toMatch(/1 of 200 class folders are WordNet ids outside the 1000 ImageNet classes: n99999999/);
    dirs(root, ['goldfish']);
    expect(await failure(imagenetA.classIds(root, 'test'))).toMatch(/2 of 201 class folders are not ImageNet WordNet ids: goldfish, n99999999/);
    const flat = tmp('r-flat');
    touch(flat, 'a.jpg');
    expect(await failure(imagenetR.classIds(flat, 'test'))).toMatch(/expected WordNet-id class folders \(e\.g\. n01440764\/\), found 1 file \(a\.jpg\)/);
  });
});

describe('imagenetSubsetPlan', () => {
  it('plans for WordNet-id class lists only', () => {
    expect(imagenetSubsetPlan([W[3], W[1]])).toEqual({ promptClassIds: [W[3], W[1]], groups: [[0], [1]], description: 'imagefolder: 2-class subset of ImageNet' });
    expect(imagenetSubsetPlan(W, 'mine')?.description).toBe('mine: all 1000 ImageNet classes');
    expect(imagenetSubsetPlan([W[0], 'cat'])).toBeUndefined();
    expect(imagenetSubsetPlan(['n99999999'])).toBeUndefined();
    expect(imagenetSubsetPlan([])).toBeUndefined();
    expect(imagenetSubsetPlan([W[0], W[0]])).toBeUndefined();
  });
});

// ---------------------------------------------------------------- objectnet

/**
 * A miniature ObjectNet 1.0 mappings/ folder in the distribution's formats: real class and ImageNet names, a
 * 2012-id permutation standing in for the real one (PyTorch index p ↔ 2012 id (7p + 3) mod 1000, except the
 * real pair 278 ↔ 0 for kit fox), and ImageNet names at the right lines, other lines filled with placeholders.
 */

const ON_FILES = ['air_freshener/1.png', 'alarm_clock/b.png', 'alarm_clock/a.png', 'backpack/x.png', 'bicycle/y.png', 'chair/z.png'];
const ON_EXPECTED: [string, number][] = [
  ['alarm_clock/a.png', 0],
  ['alarm_clock/b.png', 0],
  ['backpack/x.png', 1],
  ['bicycle/y.png', 2],
  ['chair/z.png', 3],
];

describe('objectnet', () => {
  it('keeps the ImageNet-overlapping classes (sorted folders), skips the rest, and plans max over mapped classes', async () => {
    const root = tmp('objectnet');
    objectnetMappings(root);
    touch(root, ...ON_FILES.map((f) => `images/${f}`), 'README.md');
    expect(await objectnet.classIds(root)).toEqual(['alarm_clock', 'backpack', 'bicycle', 'chair']);
    expect(await collect(objectnet, root)).toEqual(ON_EXPECTED);
    const plan = await objectnet.classifierPlan(root);
    const used = [409, 414, 423, 444, 530, 559, 671, 765];
    expect(plan.promptClassIds).toEqual(used.map((i) => W[i]));
    expect(plan.promptClassIds.slice(0, 2)).toEqual(['n02708093', 'n02769748']); // analog clock, backpack
    const at = (i: number) => used.indexOf(i);
    expect(plan.groups).toEqual([[at(409), at(530)], [at(414)], [at(444), at(671)], [at(423), at(559), at(765)]]);
    expect(plan.description).toBe('objectnet-max-over-mapped: 4 ObjectNet classes, each scored by the max logit of its mapped ImageNet classes (8 in all)');
    expect(objectnet.preprocess).toEqual({ trimBorder: 2 });
  });

  it('accepts the class folders directly in ROOT, and ROOT/objectnet-1.0/', async () => {
    const root = tmp('objectnet-flat');
    objectnetMappings(root);
    touch(root, ...ON_FILES);
    expect(await collect(objectnet, root)).toEqual(ON_EXPECTED);
    const parent = tmp('objectnet-parent');
    objectnetMappings(path.join(parent, 'objectnet-1.0'));
    touch(parent, ...ON_FILES.map((f) => `objectnet-1.0/images/${f}`));
    expect(await collect(objectnet, parent)).toEqual(ON_EXPECTED);
  });

  it('explains missing mapping files, unmappable names, ambiguous names and missing folders', async () => {
    const root = tmp('objectnet-bad');
    touch(root, ...ON_FILES.map((f) => `images/${f}`));
    objectnetMappings(root, { drop: 'pytorch_to_imagenet_2012_id.json' });
    expect(await failure(objectnet.classIds(root))).toBe(
      `${path.join(root, 'mappings', 'pytorch_to_imagenet_2012_id.json')}: missing mappings/pytorch_to_imagenet_2012_id.json, one of the four mapping files ObjectNet ships (objectnet-1.0/mappings/) — pass the objectnet-1.0 folder (holding images/ and mappings/) as --root`,
    );
    objectnetMappings(root, { objectnetToImagenet: { Backpack: 'rucksack' } });
    expect(await failure(objectnet.classIds(root))).toMatch(/objectnet_to_imagenet_1k\.json: ImageNet class "rucksack" \(for "Backpack"\) is on no line of imagenet_to_label_2012_v2/);
    objectnetMappings(root, { objectnetToImagenet: { Backpack: 'crane' }, crane: true });
    expect(await failure(objectnet.classIds(root))).toMatch(/ImageNet class "crane" \(for "Backpack"\) is on 2 lines \(\d+, \d+\)/);
    objectnetMappings(root, { objectnetToImagenet: { Sofa: 'backpack, back pack, knapsack, packsack, rucksack, haversack' } });
    expect(await failure(objectnet.classIds(root))).toMatch(/class "Sofa" has no folder in folder_to_objectnet_label\.json/);
    objectnetMappings(root);
    rmSync(path.join(root, 'images', 'chair'), { recursive: true });
    expect(await failure(objectnet.classIds(root))).toMatch(/images: 1 of the 4 ImageNet-overlapping class folders are missing: chair/);
  });

  it('checks the 2012-id map is a permutation and the label file has 1000 lines', () => {
    const files = Object.fromEntries(Object.entries(OBJECTNET_MAPPINGS).map(([k, f]) => [k, f])) as typeof OBJECTNET_MAPPINGS;
    const texts = { folderToLabel: '{"a":"A"}', objectnetToImagenet: '{"A":"x"}', imagenetLabels: 'x\n', pytorchTo2012: '{"0": 5, "1": 5}' };
    expect(() => objectnetClasses(texts, files)).toThrow(/"1": 5 is not a one-to-one map/);
    const perm = JSON.stringify(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [String(i), i])));
    expect(() => objectnetClasses({ ...texts, pytorchTo2012: perm }, files)).toThrow(/has 1 lines, expected one ImageNet class name per line \(1000\)/);
  });
});

// ---------------------------------------------------------------- registry

describe('registry', () => {
  it('registers every ImageNet-family adapter with the ImageNet prompts, top-1 and a layout', () => {
    const expected: Record<string, [string, number]> = {
      imagenet: ['val', 50_000],
      'imagenet-v2': ['test', 10_000],
      'imagenet-sketch': ['test', 50_889],
      'imagenet-r': ['test', 30_000],
      'imagenet-a': ['test', 7_500],
      objectnet: ['test', 18_574],
    };
    for (const [id, [split, count]] of Object.entries(expected)) {
      const a = getDataset(id);
      expect(a.id).toBe(id);
      expect(a.splits).toEqual([split]);
      expect(a.expectedCount).toEqual({ [split]: count });
      expect(a.defaultPrompts).toBe('imagenet');
      expect(a.metric).toBe('top1');
      expect(a.layout).toMatch(/ROOT\//);
      expect(a.layout).not.toMatch(/\n/);
    }
  });
});
