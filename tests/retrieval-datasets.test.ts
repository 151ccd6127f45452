import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATASETS } from '../src/datasets/index.js';
import { getRetrievalDataset, RETRIEVAL_DATASETS, type RetrievalData } from '../src/datasets/retrieval/index.js';
import { pyStrip } from '../src/datasets/retrieval/clip-benchmark-txt.js';
import { countMismatch, describeRetrievalData } from '../src/datasets/retrieval/summary.js';
import { pySplitlines } from '../src/datasets/retrieval/wds.js';
import {
  cocoImages,
  flickrImages,
  jpeg,
  write,
  writeCocoCaptions,
  writeFlickrTxt,
  writeImages,
  writeKarpathy,
  writeRetrievalManifest,
  writeRetrievalWds,
  type FixtureImage,
} from './support/retrieval-writers.js';
import { usageFailure as failure } from './support/usage-failure.js';

const tmp = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), `clip-bench-retrieval-${prefix}-`));


/** (image key, caption) in caption order: what the engine will score. */
const pairings = (d: RetrievalData) => d.captions.map((c) => [d.images[c.image].key, c.text]);

/** The truth the writers were given, for one split: images in `order`, captions grouped by image. */
const expectedPairings = (images: readonly FixtureImage[], split: string, keyOf: (im: FixtureImage) => string) =>
  images.filter((im) => im.split === split).flatMap((im) => im.captions.map((c) => [keyOf(im), c]));

const byCocoid = (images: readonly FixtureImage[]) => [...images].sort((a, b) => a.cocoid! - b.cocoid!);
const cocoKey = (im: FixtureImage) => `${im.folder}/${im.name}`;

describe('the retrieval dataset map', () => {
  it('holds flickr30k, flickr8k, mscoco and the multilingual three with test first and the Karpathy test counts', () => {
    expect(Object.keys(RETRIEVAL_DATASETS)).toEqual(['flickr30k', 'flickr8k', 'mscoco', 'crossmodal3600', 'xtd10', 'multilingual_mscoco']);
    for (const d of Object.values(RETRIEVAL_DATASETS)) expect(d.splits[0]).toBe('test');
    expect(RETRIEVAL_DATASETS.mscoco.splits).toContain('restval');
    expect(RETRIEVAL_DATASETS.flickr30k.expectedCount?.test).toEqual({ images: 1000, captions: 5000 });
    expect(RETRIEVAL_DATASETS.flickr8k.expectedCount?.test).toEqual({ images: 1000, captions: 5000 });
    expect(RETRIEVAL_DATASETS.mscoco.expectedCount?.test).toEqual({ images: 5000, captions: 25010 });
  });

  it('shares no name with a classification dataset (one --dataset namespace)', () => {
    for (const id of Object.keys(RETRIEVAL_DATASETS)) expect(Object.keys(DATASETS)).not.toContain(id);
  });

  it('counts matching the official split give no note', () => {
    const d = { images: Array.from({ length: 1000 }, (_, i) => ({ key: String(i), path: String(i) })), captions: Array.from({ length: 5000 }, (_, i) => ({ text: 'a', image: i % 1000 })) };
    expect(countMismatch(RETRIEVAL_DATASETS.flickr30k, 'test', d)).toBeUndefined();
    expect(countMismatch(RETRIEVAL_DATASETS.flickr30k, 'val', d)).toBeUndefined();
    expect(describeRetrievalData({ ...d, missingImages: 0 })).toBe('1,000 images, 5,000 captions (1,000 images with 5)');
  });

  it('answers an unknown name with "did you mean"', async () => {
    expect(await failure(Promise.resolve().then(() => getRetrievalDataset('flikr30k')))).toMatch(/unknown retrieval dataset "flikr30k"\. Did you mean "flickr30k"\?.*flickr30k, flickr8k, mscoco/);
  });

  it('layouts name every accepted tree', () => {
    expect(RETRIEVAL_DATASETS.flickr30k.layout).toMatch(/flickr30k_<split>_karpathy\.txt.*dataset_flickr30k\.json.*flickr30k-images\/.*dataset_type\.txt.*manifest/);
    expect(RETRIEVAL_DATASETS.mscoco.layout).toMatch(/coco_<split>_karpathy\.json.*annotations\/captions_val2014\.json.*dataset_coco\.json.*dataset_type\.txt.*manifest/);
  });
});

describe('flickr30k and flickr8k', () => {
  const images = flickrImages(['test', 'val', 'test', 'train', 'test'], [5, 5, 5, 5, 6]);

  it("Karpathy's JSON, images in flickr30k-images/: the split's images in file order with their raw captions", async () => {
    const root = tmp('f30k-karpathy');
    writeKarpathy(root, 'flickr30k', images);
    await writeImages(root, 'flickr30k-images', images);
    const d = await getRetrievalDataset('flickr30k').load(root, 'test');
    expect(pairings(d)).toEqual(expectedPairings(images, 'test', (im) => im.name));
    expect(d.images.map((im) => im.path)).toEqual(images.filter((im) => im.split === 'test').map((im) => path.join(root, 'flickr30k-images', im.name)));
    expect(d.layoutFound).toBe('Karpathy dataset_flickr30k.json split test, images in flickr30k-images/');
    expect(d.missingImages).toBe(0);
    const val = await getRetrievalDataset('flickr30k').load(root, 'val');
    expect(pairings(val)).toEqual(expectedPairings(images, 'val', (im) => im.name));
    rmSync(root, { recursive: true });
  });

  it("CLIP_benchmark's .txt (CRLF, interleaved lines), the Karpathy JSON and both manifests give identical pairings", async () => {
    const root = tmp('f30k-same');
    await writeImages(root, '', images);
    const expected = expectedPairings(images, 'test', (im) => im.name);
    writeFlickrTxt(root, 'flickr30k', 'test', images, { interleave: true, eol: '\r\n' });
    const txt = await getRetrievalDataset('flickr30k').load(root, 'test');
    expect(txt.layoutFound).toBe('CLIP_benchmark flickr30k_test_karpathy.txt, images in ROOT');
    expect(pairings(txt)).toEqual(expected);
    unlinkSync(path.join(root, 'flickr30k_test_karpathy.txt'));
    writeKarpathy(root, 'flickr30k', images);
    const karpathy = await getRetrievalDataset('flickr30k').load(root, 'test');
    expect(karpathy.layoutFound).toBe('Karpathy dataset_flickr30k.json split test, images in ROOT');
    expect(pairings(karpathy)).toEqual(expected);
    expect(karpathy.images).toEqual(txt.images);
    const test = images.filter((im) => im.split === 'test');
    for (const rel of ['test.csv', 'test.jsonl']) {
      const file = writeRetrievalManifest(root, rel, test, (im) => im.name);
      const m = await getRetrievalDataset('flickr30k').load(file, 'test');
      expect(pairings(m)).toEqual(expected);
      expect(m.images.map((im) => im.path)).toEqual(txt.images.map((im) => im.path));
      expect(m.layoutFound).toMatch(new RegExp(`^retrieval manifest ${rel.replace('.', '\\.')} \\(the whole file is the split`));
    }
    rmSync(root, { recursive: true });
  });

  it('the .txt caption keeps its commas and leading space; a lone CR ends a line, as in Python text mode', async () => {
    const root = tmp('f30k-txt');
    write(root, 'flickr30k_test_karpathy.txt', 'image,caption\r1.jpg, A man, a plan.  \n\n2.jpg,x\r1.jpg,Second, with "quotes"\n');
    await writeImages(root, '', [{ name: '1.jpg', split: 'test', captions: [], seed: 1 }]);
    const d = await getRetrievalDataset('flickr30k').load(root, 'test');
    expect(pairings(d)).toEqual([
      ['1.jpg', ' A man, a plan.'],
      ['1.jpg', 'Second, with "quotes"'],
      ['2.jpg', 'x'],
    ]);
    expect(d.missingImages).toBe(1);
    rmSync(root, { recursive: true });
  });

  it.each([
    ['Flicker8k_Dataset', 'flickr8k'],
    ['Images', 'flickr8k'],
  ] as const)('flickr8k with the images in %s/, from both the JSON and the .txt', async (folder, id) => {
    const root = tmp('f8k');
    await writeImages(root, folder, images);
    writeKarpathy(root, id, images);
    const k = await getRetrievalDataset(id).load(root, 'test');
    expect(k.layoutFound).toBe(`Karpathy dataset_flickr8k.json split test, images in ${folder}/`);
    writeFlickrTxt(root, id, 'test', images);
    const t = await getRetrievalDataset(id).load(root, 'test');
    expect(t.layoutFound).toBe(`CLIP_benchmark flickr8k_test_karpathy.txt, images in ${folder}/`);
    expect(pairings(k)).toEqual(expectedPairings(images, 'test', (im) => im.name));
    expect(pairings(t)).toEqual(pairings(k));
    rmSync(root, { recursive: true });
  });

  it('a listed image that is missing is counted, not an error, and stays listed', async () => {
    const root = tmp('f30k-missing');
    writeKarpathy(root, 'flickr30k', images);
    await writeImages(root, 'flickr30k-images', images);
    unlinkSync(path.join(root, 'flickr30k-images', images[2].name));
    const d = await getRetrievalDataset('flickr30k').load(root, 'test');
    expect(d.missingImages).toBe(1);
    expect(d.images.map((im) => im.key)).toContain(images[2].name);
    expect(describeRetrievalData(d)).toBe('3 images, 16 captions (2 images with 5, 1 with 6); 1 listed image is missing');
    rmSync(root, { recursive: true });
  });
});

describe('mscoco', () => {
  // Karpathy's file order is not id order; 6 and 7 captions are kept; restval and train images sit elsewhere.
  const images = cocoImages([
    { cocoid: 391895, split: 'test', count: 5 },
    { cocoid: 42, split: 'test', count: 7 },
    { cocoid: 9, split: 'restval', count: 5 },
    { cocoid: 1000, split: 'test', count: 6 },
    { cocoid: 77, split: 'train', count: 5, folder: 'train2014' },
    { cocoid: 500, split: 'val', count: 5 },
  ]);
  const test = byCocoid(images.filter((im) => im.split === 'test'));
  const expected = test.flatMap((im) => im.captions.map((c) => [cocoKey(im), c]));

  it("coco_test_karpathy.json, the official captions with Karpathy's split, and dataset_coco.json give the same images, order and captions", async () => {
    const root = tmp('coco');
    await writeImages(root, undefined, images);
    writeCocoCaptions(root, 'coco_test_karpathy.json', test);
    const cb = await getRetrievalDataset('mscoco').load(root, 'test');
    expect(cb.layoutFound).toBe('CLIP_benchmark coco_test_karpathy.json, images in val2014/');
    expect(pairings(cb)).toEqual(expected);
    expect(cb.captions).toHaveLength(5 + 7 + 6);
    expect(cb.images.map((im) => im.path)).toEqual(test.map((im) => path.join(root, 'val2014', im.name)));
    unlinkSync(path.join(root, 'coco_test_karpathy.json'));

    writeKarpathy(root, 'coco', images);
    writeCocoCaptions(root, 'annotations/captions_val2014.json', images.filter((im) => im.folder === 'val2014'));
    const official = await getRetrievalDataset('mscoco').load(root, 'test');
    expect(official.layoutFound).toBe("COCO annotations/captions_val2014.json with Karpathy's split test from dataset_coco.json");
    expect(pairings(official)).toEqual(expected);
    expect(official.images).toEqual(cb.images);
    expect(describeRetrievalData(official)).toBe('3 images, 18 captions (1 image with 5, 1 with 6, 1 with 7)');
    expect(countMismatch(RETRIEVAL_DATASETS.mscoco, 'test', official)).toBe('mscoco test has 5,000 images and 25,010 captions officially; found 3 and 18');
    rmSync(path.join(root, 'annotations'), { recursive: true });

    const karpathy = await getRetrievalDataset('mscoco').load(root, 'test');
    expect(karpathy.layoutFound).toBe('Karpathy dataset_coco.json split test');
    expect(pairings(karpathy)).toEqual(expected);
    expect(karpathy.images).toEqual(cb.images);

    const manifest = await getRetrievalDataset('mscoco').load(writeRetrievalManifest(root, 'coco-test.jsonl', test, cocoKey), 'test');
    expect(pairings(manifest)).toEqual(expected);
    expect(manifest.images.map((im) => im.path)).toEqual(cb.images.map((im) => im.path));

    const restval = await getRetrievalDataset('mscoco').load(root, 'restval');
    expect(pairings(restval)).toEqual(expectedPairings(images, 'restval', cocoKey));
    const train = await getRetrievalDataset('mscoco').load(root, 'train');
    expect(train.images.map((im) => im.path)).toEqual([path.join(root, 'train2014', images[4].name)]);
    rmSync(root, { recursive: true });
  });

  it("the official layout's train split needs captions_train2014.json and reads it", async () => {
    const root = tmp('coco-train');
    await writeImages(root, undefined, images);
    writeKarpathy(root, 'coco', images);
    writeCocoCaptions(root, 'annotations/captions_val2014.json', images.filter((im) => im.folder === 'val2014'));
    expect(await failure(getRetrievalDataset('mscoco').load(root, 'train'))).toBe(
      `${root}: split train has images in train2014/, whose captions file annotations/captions_train2014.json is absent — extract annotations/captions_train2014.json from COCO's annotations_trainval2014.zip`,
    );
    writeCocoCaptions(root, 'annotations/captions_train2014.json', images.filter((im) => im.folder === 'train2014'));
    const train = await getRetrievalDataset('mscoco').load(root, 'train');
    expect(pairings(train)).toEqual(expectedPairings(images, 'train', cocoKey));
    rmSync(root, { recursive: true });
  });
});

describe('WebDataset retrieval shards', () => {
  it('samples in shard order, captions per line (escaped newlines kept), images read from the tar', async () => {
    const root = tmp('wds');
    const images = flickrImages(['test', 'test', 'test', 'test', 'test'], [5, 5, 6, 7, 5]);
    images[1].captions[2] = 'two\nlines';
    await writeRetrievalWds(root, 'test', images, 2);
    const d = await getRetrievalDataset('flickr30k').load(root, 'test');
    expect(d.layoutFound).toBe('CLIP_benchmark WebDataset shards test/0.tar…2.tar');
    const key = (i: number) => `${Math.floor(i / 2)}.tar/s${String(i).padStart(7, '0')}`;
    expect(pairings(d)).toEqual(images.flatMap((im, i) => im.captions.map((c) => [key(i), c.replace('\n', '\\n')])));
    expect(d.images.map((im) => im.path)).toEqual([0, 0, 1, 1, 2].map((s) => path.join(root, 'test', `${s}.tar`)));
    expect(Buffer.from((await d.images[3].load!()) as Uint8Array).equals(await jpeg(images[3].seed))).toBe(true);
    rmSync(root, { recursive: true });
  });

  it("splitlines and strip follow Python's", () => {
    expect(pySplitlines('a\nb\r\nc\rd\x0be\x1cf\u2028g\n')).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(pySplitlines('a\n\nb')).toEqual(['a', '', 'b']);
    expect(pyStrip('\x1f\u3000 x y \x85\t')).toBe('x y');
    expect(pyStrip('\uFEFFx')).toBe('\uFEFFx');
  });
});

describe('bad input: one line naming the file (and line or JSON path), what was expected and what was found', () => {
  const images = flickrImages(['test', 'test', 'val']);
  async function flickrRoot(): Promise<string> {
    const root = tmp('bad');
    await writeImages(root, '', images);
    return root;
  }
  const load = (root: string, split = 'test', id = 'flickr30k') => failure(getRetrievalDataset(id).load(root, split));

  it.each([
    ['a line without ".jpg,"', 'image,caption\n1000.jpg,ok\n1037.png,A cat\n', /flickr30k_test_karpathy\.txt:3: expected "<image>\.jpg,<caption>", found "1037\.png,A cat" — /],
    ['an empty caption', 'image,caption\n1000.jpg,ok\n\n1037.jpg,   \n', /flickr30k_test_karpathy\.txt:4: the caption of 1037\.jpg is empty — /],
    ['no header line', '1000.jpg,ok\n1037.jpg,fine\n', /flickr30k_test_karpathy\.txt:1: expected a header line .*found a caption line — /],
    ['".jpg," twice', 'image,caption\n1000.jpg,see 2.jpg, there\n', /flickr30k_test_karpathy\.txt:2: "\.jpg," appears twice/],
    ['no caption at all', 'image,caption\n\n', /flickr30k_test_karpathy\.txt: the annotation file lists no captions/],
    ['every image absent', 'image,caption\n1.jpg,a\n2.jpg,b\n', /flickr30k_test_karpathy\.txt: none of the 2 images it lists is present \(e\.g\. 1\.jpg\); looked in flickr30k-images\/, ROOT; ROOT \(.*\) holds 4 files \(1000\.jpg, 1037\.jpg, 1074\.jpg, flickr30k_test_karpathy\.txt\) — /],
  ])('CLIP_benchmark .txt: %s', async (_what, text, message) => {
    const root = await flickrRoot();
    write(root, 'flickr30k_test_karpathy.txt', text);
    expect(await load(root)).toMatch(message);
    rmSync(root, { recursive: true });
  });

  const karpathy = () => JSON.parse(readFileSync(writeKarpathy(tmp('k'), 'flickr30k', images), 'utf8'));
  it.each([
    ['a syntax error', () => '{"images": [\n  {"filename": "1000.jpg",}\n]}', /dataset_flickr30k\.json:2:27: not valid JSON: .* — use the file as it comes/],
    ['a file cut short', () => '{"images": [\n  {"filename": tru', /dataset_flickr30k\.json:2:19: not valid JSON: Unexpected end of JSON input — /],
    ['a number as a caption', () => { const j = karpathy(); j.images[1].sentences[2].raw = 3; return JSON.stringify(j); }, /dataset_flickr30k\.json: images\[1\]\.sentences\[2\]\.raw is a number \(3\), expected a string — /],
    ['an empty caption', () => { const j = karpathy(); j.images[0].sentences[4].raw = ' '; return JSON.stringify(j); }, /dataset_flickr30k\.json: images\[0\]\.sentences\[4\]\.raw is an empty caption \(" "\), expected its text/],
    ['no sentences', () => { const j = karpathy(); j.images[0].sentences = []; return JSON.stringify(j); }, /images\[0\]\.sentences is empty, expected the image's captions/],
    ['no "images"', () => '{"dataset": "flickr30k"}', /dataset_flickr30k\.json: images is missing, expected an array/],
    ["another dataset's file", () => { const j = karpathy(); j.dataset = 'flickr8k'; return JSON.stringify(j); }, /"dataset" is "flickr8k", expected "flickr30k" — use dataset_flickr30k\.json/],
    ['an image listed twice', () => { const j = karpathy(); j.images[1].filename = j.images[0].filename; return JSON.stringify(j); }, /images\[1\] lists 1000\.jpg again \(first at images\[0\]\)/],
  ])("Karpathy's JSON: %s", async (_what, text, message) => {
    const root = await flickrRoot();
    write(root, 'dataset_flickr30k.json', text());
    expect(await load(root)).toMatch(message);
    rmSync(root, { recursive: true });
  });

  it("Karpathy's JSON without the split asked for names the splits it has", async () => {
    const root = await flickrRoot();
    writeKarpathy(root, 'flickr30k', images);
    expect(await load(root, 'train')).toMatch(/dataset_flickr30k\.json: no image has split "train"; found test \(2\), val \(1\) — pass --split/);
    rmSync(root, { recursive: true });
  });

  const coco = cocoImages([{ cocoid: 5, split: 'test', count: 5 }, { cocoid: 3, split: 'test', count: 6 }]);
  it.each([
    ['an annotation of no image', (j: any) => { j.annotations[2].image_id = 99; }, /coco_test_karpathy\.json: annotations\[2\]\.image_id 99 is not the id of any image in "images"/],
    ['an empty caption', (j: any) => { j.annotations[3].caption = ''; }, /coco_test_karpathy\.json: annotations\[3\]\.caption is an empty caption \(""\)/],
    ['an image without captions', (j: any) => { j.images.push({ id: 8, file_name: 'x.jpg' }); }, /coco_test_karpathy\.json: images\[2\] \(id 8, x\.jpg\) has no caption in "annotations"/],
    ['an id used twice', (j: any) => { j.images[1].id = j.images[0].id; }, /images\[1\]\.id 3 is already used by images\[0\]/],
  ])('COCO captions JSON: %s', async (_what, edit, message) => {
    const root = tmp('coco-bad');
    await writeImages(root, undefined, coco);
    const file = writeCocoCaptions(root, 'coco_test_karpathy.json', coco);
    const j = JSON.parse(readFileSync(file, 'utf8'));
    edit(j);
    writeFileSync(file, JSON.stringify(j));
    expect(await load(root, 'test', 'mscoco')).toMatch(message);
    rmSync(root, { recursive: true });
  });

  it('COCO images all absent: one line naming the folder looked in', async () => {
    const root = tmp('coco-absent');
    writeCocoCaptions(root, 'coco_test_karpathy.json', coco);
    expect(await load(root, 'test', 'mscoco')).toMatch(/coco_test_karpathy\.json: none of the 2 images it lists is present \(e\.g\. val2014\/COCO_val2014_000000000003\.jpg\); looked in val2014\/; ROOT \(.*\) holds 1 file \(coco_test_karpathy\.json\)/);
    rmSync(root, { recursive: true });
  });

  it.each([
    ['test.csv', 'path,caption\n1000.jpg,ok\n1037.jpg,\n', /test\.csv:3: the caption of 1037\.jpg is empty/],
    ['test.csv', 'path,text\n1000.jpg,ok\n', /test\.csv:1: the header \(path,text\) lacks a "caption" column/],
    ['test.csv', 'path,caption\n1000.jpg,a dog, running\n', /test\.csv:2: 3 fields where the header has 2 — quote captions/],
    ['test.jsonl', '{"path": "1000.jpg", "caption": "a"}\n{"path": "1037.jpg", "caption": 4}\n', /test\.jsonl:2: "caption" is not a string \(4\)/],
    ['test.jsonl', '{"path": "1000.jpg", "caption": "a"}\n{"path": \n', /test\.jsonl:2: not valid JSON/],
    ['test.jsonl', '{"path": "nope/1.jpg", "caption": "a"}\n', /test\.jsonl: none of the 1 images it lists is present/],
  ])('manifest %s: %s', async (rel, text, message) => {
    const root = await flickrRoot();
    expect(await load(write(root, rel, text))).toMatch(message);
    rmSync(root, { recursive: true });
  });

  it('WebDataset: an empty caption line, and a sample without captions, name the shard', async () => {
    const root = tmp('wds-bad');
    const wdsImages = flickrImages(['test', 'test']);
    wdsImages[1].captions[1] = '';
    await writeRetrievalWds(root, 'test', wdsImages, 5);
    expect(await load(root)).toMatch(/test\/0\.tar: sample "s0000001" has an empty caption \(line 2 of s0000001\.txt\)/);
    rmSync(root, { recursive: true });
  });

  it('a root holding none of the layouts names every expected file and what it found', async () => {
    const root = await flickrRoot();
    write(root, 'readme.txt', 'hi');
    const line = await load(root);
    expect(line).toMatch(new RegExp(`^${root}: no flickr30k test split found: expected ROOT/flickr30k_test_karpathy\\.txt .*; or ROOT/dataset_flickr30k\\.json .*; or ROOT/dataset_type\\.txt .*; or a retrieval manifest file as --root; found 4 files \\(1000\\.jpg, 1037\\.jpg, 1074\\.jpg, readme\\.txt\\)`));
    expect(line).not.toContain('\n');
    rmSync(root, { recursive: true });
  });

  it('an unknown split is refused with the valid ones', async () => {
    expect(await load(tmp('split'), 'restval')).toBe('flickr30k has no split "restval" — pass --split with one of: test, val, train');
  });
});
