/**
 * Crossmodal-3600, XTD10 and multilingual_mscoco read from the files as Google and adobe-research distribute
 * them (written here by tests/support/retrieval-writers.ts): the pairings equal the writers' own truth, taken
 * as CLIP_benchmark takes it (XM3600: each image's first caption in the language; XTD10: line i of the
 * language's file with line i of the image list). Bad input and a missing or unknown language: one line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getRetrievalDataset, RETRIEVAL_DATASETS, type RetrievalData } from '../src/datasets/retrieval/index.js';
import { captionLanguage } from '../src/eval/retrieval.js';
import { jpeg, multilingualImages, write, writeClipBenchmarkAnnotation, writeRetrievalManifest, writeXm3600, writeXtd10Files, xtdFolder, type MultilingualImage } from './support/retrieval-writers.js';
import { usageFailure as failure, usageFailureSync } from './support/usage-failure.js';

const tmp = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), `clip-bench-ml-retrieval-${prefix}-`));
const pairings = (d: RetrievalData) => d.captions.map((c) => [d.images[c.image].key, c.text]);
/** CLIP_benchmark's pairing, from the writer's truth: each image once, with its first caption in `language`. */
const firstCaptionPairs = (images: readonly MultilingualImage[], language: string, keyOf: (im: MultilingualImage) => string) => images.map((im) => [keyOf(im), im.captions[language][0]]);

const XM_LANGS = ['en', 'de', 'fil', 'zh'];
/** XTD10 names: COCO 2014 file names, as test_image_names.txt lists them */
const xtdImages = (n: number, languages: readonly string[]) =>
  multilingualImages(n, languages).map((im, i) => ({ ...im, name: `COCO_${i % 5 === 0 ? 'val' : 'train'}2014_${String(61844 + 7 * i).padStart(12, '0')}.jpg` }));

async function writeXtdImages(root: string, folder: string, images: readonly MultilingualImage[]) {
  for (const im of images) write(root, path.join(folder, im.name), await jpeg(im.seed));
}

describe('the multilingual retrieval datasets', () => {
  it("are registered with CLIP_benchmark's language lists and one test split each", () => {
    expect(RETRIEVAL_DATASETS.crossmodal3600.languages).toHaveLength(36);
    expect(RETRIEVAL_DATASETS.crossmodal3600.languages).toEqual(expect.arrayContaining(['fil', 'quz', 'mi', 'en', 'zh']));
    expect([...RETRIEVAL_DATASETS.xtd10.languages!]).toEqual(['de', 'en', 'es', 'fr', 'it', 'jp', 'ko', 'pl', 'ru', 'tr', 'zh']);
    expect(RETRIEVAL_DATASETS.multilingual_mscoco.languages).toEqual(RETRIEVAL_DATASETS.xtd10.languages);
    for (const id of ['crossmodal3600', 'xtd10', 'multilingual_mscoco'] as const) expect(RETRIEVAL_DATASETS[id].splits).toEqual(['test']);
    expect(RETRIEVAL_DATASETS.crossmodal3600.expectedCount?.test).toEqual({ images: 3600, captions: 3600 });
    expect(RETRIEVAL_DATASETS.xtd10.expectedCount?.test).toEqual({ images: 1000, captions: 1000 });
  });

  it('an English-only dataset takes no --language but en; a multilingual one passes it to its reader', () => {
    expect(captionLanguage(RETRIEVAL_DATASETS.flickr30k, undefined)).toBeUndefined();
    expect(captionLanguage(RETRIEVAL_DATASETS.flickr30k, 'en')).toBeUndefined();
    expect(usageFailureSync(() => captionLanguage(RETRIEVAL_DATASETS.mscoco, 'de'))).toBe(
      "mscoco's captions are English only, so --language de has nothing to select — leave out --language, or use a multilingual retrieval dataset: crossmodal3600, xtd10, multilingual_mscoco",
    );
    expect(captionLanguage(RETRIEVAL_DATASETS.xtd10, 'de')).toBe('de');
    expect(captionLanguage(RETRIEVAL_DATASETS.xtd10, undefined)).toBeUndefined();
  });
});

describe('crossmodal3600', () => {
  const xm = getRetrievalDataset('crossmodal3600');

  it("CLIP_benchmark's ROOT/xm3600/ and the extracted folder itself: each image once with its first caption in the language, in line order", async () => {
    const images = multilingualImages(5, XM_LANGS);
    const a = tmp('xm-a');
    await writeXm3600(a, 'xm3600', images);
    const b = tmp('xm-b');
    await writeXm3600(b, '', images);
    for (const language of ['de', 'fil']) {
      const da = await xm.load(a, 'test', language);
      expect(pairings(da)).toEqual(firstCaptionPairs(images, language, (im) => `${im.name}.jpg`));
      expect(da.images.map((im) => im.path)).toEqual(images.map((im) => path.join(a, 'xm3600', 'images', `${im.name}.jpg`)));
      expect(da.layoutFound).toBe(`Crossmodal-3600 xm3600/captions.jsonl (${language}: the first caption of each image, as CLIP_benchmark), images in xm3600/images/`);
      expect(da.missingImages).toBe(0);
      const db = await xm.load(b, 'test', language);
      expect(pairings(db)).toEqual(pairings(da));
      expect(db.layoutFound).toContain('Crossmodal-3600 captions.jsonl');
    }
    // the caption is kept as written (the second caption's spaces would show; the first has commas and quotes)
    expect((await xm.load(a, 'test', 'en')).captions[0].text).toBe('en Bild 0, "erste" Zeile 0');
    rmSync(a, { recursive: true });
    rmSync(b, { recursive: true });
  });

  it('no --language, or one the file lacks: one line listing the languages found', async () => {
    const root = tmp('xm-lang');
    const file = await writeXm3600(root, 'xm3600', multilingualImages(2, XM_LANGS));
    expect(await failure(xm.load(root, 'test'))).toBe(`${file}: crossmodal3600 has captions in several languages and no --language was given; languages found: de, en, fil, zh — pass --language with one of the languages found`);
    expect(await failure(xm.load(root, 'test', 'sw'))).toBe(`${file}: no crossmodal3600 captions in language "sw"; languages found: de, en, fil, zh — pass --language with one of the languages found, or add that language's caption file`);
    rmSync(root, { recursive: true });
  });

  it('a missing image is counted, not an error; an image lacking the language, a bad key, a repeated key: the line', async () => {
    const root = tmp('xm-bad');
    const images = multilingualImages(3, ['en', 'de']);
    const file = await writeXm3600(root, 'xm3600', images, { withImages: (im) => im !== images[1] });
    const d = await xm.load(root, 'test', 'de');
    expect(d.missingImages).toBe(1);
    expect(d.images).toHaveLength(3);
    const rows = images.map((im) => ({ 'image/key': im.name, en: { caption: im.captions.en }, de: { caption: im.captions.de } }));
    const rewrite = (objs: unknown[]) => writeFileSync(file, objs.map((o) => JSON.stringify(o)).join('\n') + '\n');
    rewrite([rows[0], { 'image/key': images[1].name, en: { caption: ['x'] } }, rows[2]]);
    expect(await failure(xm.load(root, 'test', 'de'))).toMatch(new RegExp(`^${file}:2: image ${images[1].name} has no "de" captions — `));
    rewrite([rows[0], { ...rows[1], de: { caption: ['  '] } }]);
    expect(await failure(xm.load(root, 'test', 'de'))).toMatch(/:2: the first "de" caption of image [0-9a-f]+ is "  ", expected its text/);
    rewrite([rows[0], { ...rows[1], 'image/key': 7 }]);
    expect(await failure(xm.load(root, 'test', 'de'))).toMatch(/:2: "image\/key" is 7, expected the image's key/);
    rewrite([rows[0], rows[1], rows[0]]);
    expect(await failure(xm.load(root, 'test', 'de'))).toMatch(/:3: image [0-9a-f]+ is listed again \(first on line 1\)/);
    writeFileSync(file, '{"image/key": "a", \n');
    expect(await failure(xm.load(root, 'test', 'de'))).toMatch(/captions\.jsonl:1: not valid JSON/);
    rmSync(root, { recursive: true });
  });

  it('every image absent: one line naming the folder looked in', async () => {
    const root = tmp('xm-none');
    const file = await writeXm3600(root, 'xm3600', multilingualImages(2, ['en']), { withImages: () => false });
    expect(await failure(xm.load(root, 'test', 'en'))).toMatch(new RegExp(`^${file}: none of the 2 images it lists is present .*looked in xm3600/images/`));
    rmSync(root, { recursive: true });
  });
});

describe('xtd10 and multilingual_mscoco', () => {
  const langs = ['en', 'de', 'fr', 'jp', 'es', 'zh'];

  it("a clone of the XTD10 repository (MIC for de/fr, STAIR for jp, CRLF files without a final line end): line i's caption with line i's image", async () => {
    const images = xtdImages(6, langs);
    const root = tmp('xtd');
    writeXtd10Files(root, '', images, { crlf: ['es', 'zh'] });
    await writeXtdImages(root, 'xtd10/images', images);
    const xtd = getRetrievalDataset('xtd10');
    for (const language of langs) {
      const d = await xtd.load(root, 'test', language);
      expect(pairings(d), language).toEqual(firstCaptionPairs(images, language, (im) => im.name));
      expect(d.layoutFound).toBe(`xtd10 XTD10/test_image_names.txt with ${xtdFolder(language)}/test_1kcaptions_${language}.txt (${language}), images in xtd10/images/`);
      expect(d.images[0].path).toBe(path.join(root, 'xtd10', 'images', images[0].name));
    }
    rmSync(root, { recursive: true });
  });

  it('multilingual_mscoco reads the same files with its images in multilingual_mscoco/images/; the files flat in ROOT or a clone inside it read alike', async () => {
    const images = xtdImages(4, ['en', 'ko']);
    const a = tmp('mlcoco');
    writeXtd10Files(a, 'Cross-lingual-Test-Dataset-XTD10', images);
    await writeXtdImages(a, 'multilingual_mscoco/images', images);
    const d = await getRetrievalDataset('multilingual_mscoco').load(a, 'test', 'ko');
    expect(pairings(d)).toEqual(firstCaptionPairs(images, 'ko', (im) => im.name));
    expect(d.layoutFound).toBe('multilingual_mscoco Cross-lingual-Test-Dataset-XTD10/XTD10/test_image_names.txt with Cross-lingual-Test-Dataset-XTD10/XTD10/test_1kcaptions_ko.txt (ko), images in multilingual_mscoco/images/');
    const b = tmp('xtd-flat');
    writeXtd10Files(b, '', images, { flat: true });
    await writeXtdImages(b, 'images', images);
    const f = await getRetrievalDataset('xtd10').load(b, 'test', 'ko');
    expect(pairings(f)).toEqual(pairings(d));
    expect(f.layoutFound).toBe('xtd10 test_image_names.txt with test_1kcaptions_ko.txt (ko), images in images/');
    rmSync(a, { recursive: true });
    rmSync(b, { recursive: true });
  });

  it('a missing or unknown language lists the caption files found; files of different lengths, an empty line, a repeated image: refused', async () => {
    const images = xtdImages(3, ['en', 'de', 'jp']);
    const root = tmp('xtd-bad');
    writeXtd10Files(root, '', images);
    await writeXtdImages(root, 'xtd10/images', images);
    const xtd = getRetrievalDataset('xtd10');
    expect(await failure(xtd.load(root, 'test'))).toBe(`${root}: xtd10 has captions in several languages and no --language was given; languages found: de, en, jp — pass --language with one of the languages found`);
    expect(await failure(xtd.load(root, 'test', 'ko'))).toMatch(/no xtd10 captions in language "ko"; languages found: de, en, jp/);
    // ja, the code a run stores, reads XTD10's jp file (CLIP_benchmark's spelling)
    expect((await xtd.load(root, 'test', 'ja')).layoutFound).toContain('test_1kcaptions_jp.txt (jp)');
    const de = path.join(root, 'MIC', 'test_1kcaptions_de.txt');
    writeFileSync(de, 'eins\nzwei\n');
    expect(await failure(xtd.load(root, 'test', 'de'))).toBe(`${de}: 2 captions for the 3 images of test_image_names.txt; CLIP_benchmark would pair only the first 2 — use the files of github.com/adobe-research/Cross-lingual-Test-Dataset-XTD10 as they are (one line per image)`);
    writeFileSync(de, 'eins\n \ndrei\n');
    expect(await failure(xtd.load(root, 'test', 'de'))).toMatch(new RegExp(`^${de}:2: line 2 is empty, expected a caption`));
    const index = path.join(root, 'XTD10', 'test_image_names.txt');
    writeFileSync(index, [images[0].name, images[1].name, images[0].name].join('\n'));
    expect(await failure(xtd.load(root, 'test', 'en'))).toMatch(new RegExp(`^${index}:3: ${images[0].name} is listed again \\(first on line 1\\)`));
    rmSync(root, { recursive: true });
  });

  it('a missing image is counted; none present names the folders looked in', async () => {
    const images = xtdImages(3, ['en']);
    const root = tmp('xtd-missing');
    writeXtd10Files(root, '', images);
    expect(await failure(getRetrievalDataset('xtd10').load(root, 'test', 'en'))).toMatch(/test_image_names\.txt: none of the 3 images it lists is present .*looked in xtd10\/images\/, images\/, ROOT/);
    await writeXtdImages(root, 'images', images.slice(1));
    expect((await getRetrievalDataset('xtd10').load(root, 'test', 'en')).missingImages).toBe(1);
    rmSync(root, { recursive: true });
  });
});

describe("CLIP_benchmark's own annotation files (<name>-<lang>.json), which it reads first where present", () => {
  it('xtd10-de.json is read before the repository files (its images only), paths from another root resolved under ROOT; languages found are both', async () => {
    const images = xtdImages(5, ['en', 'de']);
    const root = tmp('xtd-generated');
    writeXtd10Files(root, '', images);
    await writeXtdImages(root, 'xtd10/images', images);
    // CLIP_benchmark skipped image 2 (missing when it wrote the file) and wrote paths under its own root
    const kept = images.flatMap((im, index) => (index === 2 ? [] : [{ name: im.name, caption: im.captions.de[0], index }]));
    writeClipBenchmarkAnnotation(root, 'xtd10-de.json', '/elsewhere/clip_benchmark_datasets/xtd10', 'xtd10', kept);
    writeClipBenchmarkAnnotation(root, 'xtd10-ko.json', 'relative/root', 'xtd10', kept.map((k) => ({ ...k, caption: `ko ${k.index}` })));
    const xtd = getRetrievalDataset('xtd10');
    const de = await xtd.load(root, 'test', 'de');
    expect(pairings(de)).toEqual(kept.map((k) => [k.name, k.caption]));
    expect(de.images.map((im) => im.path)).toEqual(kept.map((k) => path.join(root, 'xtd10', 'images', k.name)));
    expect(de.layoutFound).toBe("CLIP_benchmark's xtd10-de.json (de: the images and captions it wrote), images in xtd10/images/");
    expect(pairings(await xtd.load(root, 'test', 'ko'))).toEqual(kept.map((k) => [k.name, `ko ${k.index}`]));
    // en has no generated file: the repository's files, all 5 images
    expect(pairings(await xtd.load(root, 'test', 'en'))).toEqual(firstCaptionPairs(images, 'en', (im) => im.name));
    expect(await failure(xtd.load(root, 'test'))).toMatch(/languages found: de, en, ko —/);
    // multilingual_mscoco reads its own name, not xtd10's
    expect(await failure(getRetrievalDataset('multilingual_mscoco').load(root, 'test', 'ko'))).toMatch(/no multilingual_mscoco captions in language "ko"; languages found: de, en/);
    rmSync(root, { recursive: true });
  });

  it('crossmodal3600_captions-sw.json alone is a root; a path outside xm3600/images/ or lists of different lengths are refused', async () => {
    const root = tmp('xm-generated');
    const images = multilingualImages(3, ['sw']);
    for (const im of images) write(root, path.join('xm3600', 'images', `${im.name}.jpg`), await jpeg(im.seed));
    const pairs = images.map((im, index) => ({ name: `${im.name}.jpg`, caption: im.captions.sw[0], index }));
    const file = writeClipBenchmarkAnnotation(root, 'crossmodal3600_captions-sw.json', '/data', 'xm3600', pairs);
    const xm = getRetrievalDataset('crossmodal3600');
    expect(pairings(await xm.load(root, 'test', 'sw'))).toEqual(pairs.map((p) => [p.name, p.caption]));
    writeFileSync(file, JSON.stringify({ image_paths: ['/data/images/a.jpg'], annotations: ['x'], indicies: [0] }));
    expect(await failure(xm.load(root, 'test', 'sw'))).toBe(`${file}: image_paths[0] is "/data/images/a.jpg", expected a path through xm3600/images/ — delete it to read the dataset's own files, or let CLIP_benchmark write it again`);
    writeFileSync(file, JSON.stringify({ image_paths: ['/data/xm3600/images/a.jpg'], annotations: ['x', 'y'] }));
    expect(await failure(xm.load(root, 'test', 'sw'))).toMatch(/"image_paths" has 1 entries and "annotations" 2/);
    rmSync(root, { recursive: true });
  });
});

describe('a manifest as the root of a multilingual dataset', () => {
  it('needs --language (only the user knows the captions\' language) and then reads as any manifest', async () => {
    const root = tmp('ml-manifest');
    const images = [{ name: 'a.jpg', split: 'test', seed: 1, captions: ['ein Hund'] }];
    for (const im of images) write(root, im.name, await jpeg(im.seed));
    const file = writeRetrievalManifest(root, 'captions.jsonl', images, (im) => im.name);
    expect(await failure(getRetrievalDataset('xtd10').load(file, 'test'))).toBe(`${file}: xtd10 is multilingual and a manifest does not say its captions' language — pass --language with the language of the manifest's captions`);
    expect(pairings(await getRetrievalDataset('crossmodal3600').load(file, 'test', 'de'))).toEqual([['a.jpg', 'ein Hund']]);
    rmSync(root, { recursive: true });
  });
});
