/**
 * Miniature copies of ten of the paper's benchmarks in their distributions' native layouts: the official index
 * files (GTSRB's semicolon CSV, CLEVR's scenes JSON, KITTI's label_2 rows and devkit mapping files, VOC's
 * ImageSets/Main lists, Birdsnap's TSVs, UCF101's lists, Hateful Memes' JSONL), real small images made with sharp,
 * and GTSRB's PPM files written by hand. Each writer takes what to write (class, file name, objects …) so a test
 * computes its expected labels from its own input.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadPromptSet } from '../../src/prompts/prompt-set.js';

export function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `clip-bench-${prefix}-`));
}

export function write(root: string, rel: string, content: string | Uint8Array): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), content);
}

export const lines = (xs: readonly string[], eol = '\n') => xs.join(eol) + eol;

/** The class ids of a prompt set, in its key order (the datasets' label order). */
export function promptKeys(id: string): string[] {
  return Object.keys(loadPromptSet(id).classes!);
}

const colour = (seed: number) => ({ r: (seed * 53) % 256, g: (seed * 97) % 256, b: (seed * 193) % 256 });

/** A small solid-colour PNG or JPEG whose colour and size depend on `seed`. */
export async function writeImage(root: string, rel: string, seed: number): Promise<void> {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  const img = sharp({ create: { width: 12 + (seed % 5), height: 10 + (seed % 7), channels: 3, background: colour(seed) } });
  await (rel.toLowerCase().endsWith('.png') ? img.png() : img.jpeg()).toFile(path.join(root, rel));
}

/** A binary PPM (P6, maxval 255), written byte by byte as GTSRB ships them. */
export function ppm(width: number, height: number, seed: number): Uint8Array {
  const header = Buffer.from(`P6\n${width} ${height}\n255\n`, 'ascii');
  const pixels = new Uint8Array(width * height * 3);
  const c = colour(seed);
  for (let i = 0; i < width * height; i++) pixels.set([(c.r + i) % 256, c.g, (c.b + 3 * i) % 256], 3 * i);
  return Buffer.concat([header, pixels]);
}

// ---------------------------------------------------------------- GTSRB

/** ROOT/GTSRB/Final_Test/Images/<file>.ppm (+ the unlabelled .test.csv) and ROOT/GT-final_test.csv. */
export function writeGtsrb(root: string, rows: readonly (readonly [classId: number, file: string])[], opts: { missing?: readonly string[]; withGt?: boolean } = {}): void {
  const dir = 'GTSRB/Final_Test/Images';
  const header = 'Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2';
  rows.forEach(([, file], i) => {
    if (!opts.missing?.includes(file)) write(root, `${dir}/${file}`, ppm(30 + i, 32, i + 1));
  });
  const body = (withClass: boolean) => rows.map(([c, f], i) => `${f};${30 + i};32;5;5;${25 + i};27${withClass ? `;${c}` : ''}`);
  write(root, `${dir}/GT-final_test.test.csv`, lines([header, ...body(false)], '\r\n'));
  if (opts.withGt !== false) write(root, 'GT-final_test.csv', lines([`${header};ClassId`, ...body(true)], '\r\n'));
}

// ---------------------------------------------------------------- Country211, Rendered SST2

/** ROOT/<top>/<split>/<class>/<file>: every class folder (empty where no entry), images for the entries. */
export async function writeSplitFolders(root: string, top: string, split: string, classIds: readonly string[], entries: readonly (readonly [number, string])[]): Promise<void> {
  for (const id of classIds) mkdirSync(path.join(root, top, split, id), { recursive: true });
  let seed = 1;
  for (const [c, file] of entries) await writeImage(root, `${top}/${split}/${classIds[c]}/${file}`, seed++);
}

// ---------------------------------------------------------------- CLEVR

/** ROOT/CLEVR_v1.0/images/<split>/CLEVR_<split>_00000N.png and scenes/CLEVR_<split>_scenes.json with `counts[i]` objects in scene i. */
export async function writeClevr(root: string, split: string, counts: readonly number[], opts: { missing?: readonly number[] } = {}): Promise<string[]> {
  const names = counts.map((_, i) => `CLEVR_${split}_${String(i).padStart(6, '0')}.png`);
  const object = (k: number) => ({ color: 'red', size: k % 2 ? 'large' : 'small', shape: 'cube', material: 'rubber', '3d_coords': [k, 0, 0.35], rotation: 0, pixel_coords: [10 * k, 20, 9.5] });
  const scenes = counts.map((n, i) => ({ image_index: i, image_filename: names[i], split, objects: Array.from({ length: n }, (_, k) => object(k)), relationships: {}, directions: {} }));
  write(root, `CLEVR_v1.0/scenes/CLEVR_${split}_scenes.json`, JSON.stringify({ info: { split, version: '1.0' }, scenes }));
  for (const [i, name] of names.entries()) if (!opts.missing?.includes(i)) await writeImage(root, `CLEVR_v1.0/images/${split}/${name}`, i + 1);
  return names;
}

// ---------------------------------------------------------------- KITTI

/** One label_2 row: type, truncated, occluded, alpha, bbox (4), dimensions (3), location x y z, rotation_y. */
export const kittiObject = (type: string, z: number | string) => `${type} 0.00 0 -1.57 100.00 150.00 200.00 250.00 1.50 1.60 3.90 1.00 1.70 ${z} 1.57`;
export const KITTI_DONTCARE = 'DontCare -1 -1 -10 503.89 169.71 590.61 190.13 -1 -1 -1 -1000 -1000 -1000 -10';

/**
 * ROOT/training/{image_2,label_2}/NNNNNN.{png,txt} for image i, and the devkit's mapping files: image i comes
 * from `drives[driveOf[i]]`; `train_mapping.txt` lists the images' lines in `lineOrder` (so train_rand.txt
 * is not the identity).
 */
export async function writeKitti(root: string, opts: { drives: readonly string[]; driveOf: readonly number[]; objects: readonly (readonly string[])[]; images?: boolean }): Promise<void> {
  const n = opts.driveOf.length;
  // line k of train_mapping.txt describes image lineImage[k]; train_rand.txt gives each image's 1-based line
  const lineImage = Array.from({ length: n }, (_, k) => (k * 7 + 3) % n);
  if (new Set(lineImage).size !== n) throw new Error('pick n coprime with 7');
  const mapping = lineImage.map((img, k) => `2011_09_26 ${opts.drives[opts.driveOf[img]]} ${String(k * 5).padStart(10, '0')}`);
  const rand = Array.from({ length: n }, (_, img) => lineImage.indexOf(img) + 1);
  write(root, 'mapping/train_mapping.txt', lines(mapping));
  write(root, 'mapping/train_rand.txt', rand.join(',') + '\n');
  for (let i = 0; i < n; i++) {
    const name = String(i).padStart(6, '0');
    write(root, `training/label_2/${name}.txt`, lines(opts.objects[i] ?? []));
    if (opts.images !== false) await writeImage(root, `training/image_2/${name}.png`, i + 1);
  }
}

// ---------------------------------------------------------------- VOC2007

export type VocFlag = 1 | -1 | 0;

/** ROOT/VOCdevkit/VOC2007/{ImageSets/Main/<class>_<split>.txt, ImageSets/Main/<split>.txt, JPEGImages/<id>.jpg}. */
export async function writeVoc(root: string, split: string, classes: readonly string[], images: readonly { id: string; flags: Partial<Record<string, VocFlag>> }[]): Promise<void> {
  const dir = 'VOCdevkit/VOC2007';
  // The devkit right-aligns the flag: "000005 -1", "000007  1", "000009  0".
  for (const c of classes) write(root, `${dir}/ImageSets/Main/${c}_${split}.txt`, lines(images.map((im) => `${im.id} ${String(im.flags[c] ?? -1).padStart(2)}`)));
  write(root, `${dir}/ImageSets/Main/${split}.txt`, lines(images.map((im) => im.id)));
  for (const [i, im] of images.entries()) await writeImage(root, `${dir}/JPEGImages/${im.id}.jpg`, i + 1);
  mkdirSync(path.join(root, dir, 'Annotations'), { recursive: true });
}

// ---------------------------------------------------------------- Birdsnap

export interface BirdSpecies {
  common: string;
  dir: string;
}

/**
 * ROOT/birdsnap/{species.txt,test_images.txt,images.txt} with the species in the given order (ids 1…n), and
 * download/images/<dir>/<file> for the test entries (class = index into `species`) not listed in `missing`.
 */
export async function writeBirdsnap(root: string, species: readonly BirdSpecies[], test: readonly (readonly [number, string])[], missing: readonly string[] = []): Promise<void> {
  const dir = 'birdsnap';
  write(root, `${dir}/species.txt`, lines(['id\tcommon\tscientific\tdir', ...species.map((s, i) => `${i + 1}\t${s.common}\tAvis fixturea ${i + 1}\t${s.dir}`)]));
  const paths = test.map(([s, file]) => `${species[s].dir}/${file}`);
  write(root, `${dir}/test_images.txt`, lines(['path', ...paths]));
  write(root, `${dir}/images.txt`, lines(['url\tmd5\tpath\tspecies_id', ...test.map(([s], i) => `http://farm.example/${i}.jpg\t0\t${paths[i]}\t${s + 1}`)]));
  write(root, `${dir}/get_birdsnap.py`, '# downloads the images\n');
  for (const [i, p] of paths.entries()) if (!missing.includes(p)) await writeImage(root, `${dir}/download/images/${p}`, i + 1);
}

// ---------------------------------------------------------------- UCF101

/** ROOT/ucfTrainTestlist/{classInd.txt,testlist01.txt} (CRLF, as shipped) and ROOT/<Class>/<video>.<ext> frames. */
export async function writeUcf101(root: string, classes: readonly string[], test: readonly (readonly [number, string])[], opts: { ext?: string; noFrame?: readonly string[]; extraFrames?: readonly (readonly [number, string])[] } = {}): Promise<void> {
  write(root, 'ucfTrainTestlist/classInd.txt', lines(classes.map((c, i) => `${i + 1} ${c}`), '\r\n'));
  write(root, 'ucfTrainTestlist/testlist01.txt', lines(test.map(([c, v]) => `${classes[c]}/${v}.avi`), '\r\n'));
  write(root, 'ucfTrainTestlist/trainlist01.txt', lines([`${classes[0]}/v_${classes[0]}_g08_c01.avi 1`], '\r\n'));
  let seed = 1;
  for (const [c, v] of [...test, ...(opts.extraFrames ?? [])]) if (!opts.noFrame?.includes(v)) await writeImage(root, `${classes[c]}/${v}.${opts.ext ?? 'png'}`, seed++);
}

// ---------------------------------------------------------------- Kinetics-700

/** ROOT/val/<folder>/<file> for every class (empty folders included); `folder` names each class's folder. */
export async function writeKinetics(root: string, classes: readonly string[], entries: readonly (readonly [number, string])[], folder: (c: string) => string = (c) => c): Promise<void> {
  for (const c of classes) mkdirSync(path.join(root, 'val', folder(c)), { recursive: true });
  let seed = 1;
  for (const [c, file] of entries) await writeImage(root, `val/${folder(classes[c])}/${file}`, seed++);
}

// ---------------------------------------------------------------- Hateful Memes

/** ROOT/data/{img/<id>.png,<split>.jsonl} with one line per meme. */
export async function writeHatefulMemes(root: string, split: string, memes: readonly { id: number; label: 0 | 1; text: string }[]): Promise<void> {
  const img = (id: number) => `img/${String(id).padStart(5, '0')}.png`;
  write(root, `data/${split}.jsonl`, lines(memes.map((m) => JSON.stringify({ id: m.id, img: img(m.id), label: m.label, text: m.text }))));
  for (const m of memes) await writeImage(root, `data/${img(m.id)}`, m.id % 97);
}
