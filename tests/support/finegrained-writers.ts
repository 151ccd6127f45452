/**
 * Miniature copies of the fine-grained benchmarks in their distributions' native layouts: real class lists (the
 * prompt sets' keys, which are the official ids), split and annotation files in the official formats, MAT files
 * written by our independent MAT writer, and small real JPEGs made with sharp. Each writer takes the samples to
 * write as (class index, image name) pairs, so a test computes the expected labels from its own input; images
 * listed in `missing` are referenced by the split file but not written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { loadPromptSet } from '../../src/prompts/prompt-set.js';
import { writeMat, type MatIn } from './mat5-writer.js';

/** The official class ids of a dataset, in label order: its prompt set's keys. */
export function officialIds(datasetId: string): string[] {
  return Object.keys(loadPromptSet(datasetId).classes!);
}

export function write(root: string, rel: string, content: string | Uint8Array): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), content);
}

/** A small solid-colour JPEG whose colour depends on `seed` (a real image every decoder accepts). */
export async function writeJpeg(root: string, rel: string, seed: number): Promise<void> {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  const background = { r: (seed * 53) % 256, g: (seed * 97) % 256, b: (seed * 193) % 256 };
  await sharp({ create: { width: 12 + (seed % 5), height: 10 + (seed % 7), channels: 3, background } })
    .jpeg()
    .toFile(path.join(root, rel));
}

/** (class index, image name) */
export type Entry = readonly [number, string];

export interface SplitSpec {
  test: readonly Entry[];
  /** image names written into the split file but not to disk */
  missing?: readonly string[];
}

async function images(root: string, rels: readonly string[], missing: readonly string[] = [], names: readonly string[] = rels): Promise<void> {
  let seed = 1;
  for (const [i, rel] of rels.entries()) if (!missing.includes(names[i])) await writeJpeg(root, rel, seed++);
}

const lines = (xs: readonly string[]) => xs.join('\n') + '\n';

/** ROOT/food-101/{meta/classes.txt,meta/test.txt,meta/train.txt,images/<class>/<id>.jpg}; names are image ids. */
export async function writeFood101(root: string, spec: SplitSpec & { train?: readonly Entry[] }): Promise<void> {
  const ids = officialIds('food101');
  const dir = path.join(root, 'food-101');
  write(dir, 'meta/classes.txt', lines(ids));
  write(dir, 'meta/labels.txt', lines(ids.map((c) => c.replace(/_/g, ' '))));
  write(dir, 'meta/test.txt', lines(spec.test.map(([c, id]) => `${ids[c]}/${id}`)));
  write(dir, 'meta/train.txt', lines((spec.train ?? []).map(([c, id]) => `${ids[c]}/${id}`)));
  await images(dir, spec.test.map(([c, id]) => `images/${ids[c]}/${id}.jpg`), spec.missing, spec.test.map(([, id]) => id));
}

/** Pets: a cat breed is capitalised in the official names (species 1), a dog breed is not (species 2). */
const species = (breed: string) => (breed[0] === breed[0].toUpperCase() ? 1 : 2);

/**
 * ROOT/images/<Breed>_<n>.jpg and ROOT/annotations/{list,trainval,test}.txt; names are the numbers n. list.txt has
 * the official comment header and one line per breed (so every CLASS-ID is named); trainval.txt repeats those.
 */
export async function writePets(root: string, spec: SplitSpec): Promise<void> {
  const ids = officialIds('oxford-pets');
  const breedId = (c: number) => ids.slice(0, c + 1).filter((b) => species(b) === species(ids[c])).length;
  const line = (c: number, n: string) => `${ids[c]}_${n} ${c + 1} ${species(ids[c])} ${breedId(c)}`;
  const header = ['#Image CLASS-ID SPECIES BREED ID', '#ID: 1:37 Class ids', '#SPECIES: 1:Cat 2:Dog', '#BREED ID: 1-25:Cat 1:12:Dog', '#All images with 1st letter as captial are cat images', '#images with small first letter are dog images'];
  const all = ids.map((_, c) => line(c, '1000'));
  write(root, 'annotations/list.txt', lines([...header, ...all]));
  write(root, 'annotations/trainval.txt', lines(all));
  write(root, 'annotations/test.txt', lines(spec.test.map(([c, n]) => line(c, n))));
  await images(root, spec.test.map(([c, n]) => `images/${ids[c]}_${n}.jpg`), spec.missing, spec.test.map(([, n]) => n));
}

/**
 * ROOT/flowers-102/{jpg/image_%05d.jpg,imagelabels.mat,setid.mat}: `labels[n-1]` is the 1-based class of image n;
 * names in `missing` are image numbers. MAT files as MATLAB -v7 writes them (compressed, doubles stored narrow).
 */
export async function writeFlowers(root: string, spec: { labels: readonly number[]; tstid: readonly number[]; trnid?: readonly number[]; valid?: readonly number[]; missing?: readonly number[] }): Promise<void> {
  const dir = path.join(root, 'flowers-102');
  const vec = (xs: readonly number[]): MatIn => ({ numeric: xs, class: 'double', store: 'uint16', dims: [1, xs.length] });
  write(dir, 'imagelabels.mat', writeMat({ labels: { numeric: spec.labels, class: 'double', store: 'uint8', dims: [1, spec.labels.length] } }, { compress: true }));
  write(dir, 'setid.mat', writeMat({ trnid: vec(spec.trnid ?? []), valid: vec(spec.valid ?? []), tstid: vec(spec.tstid) }, { compress: true }));
  const numbers = spec.labels.map((_, i) => i + 1).filter((n) => !(spec.missing ?? []).includes(n));
  await images(dir, numbers.map((n) => `jpg/image_${String(n).padStart(5, '0')}.jpg`));
}

/** ROOT/dtd/images/<class>/<file> (all 47 class folders) and labels/{test1,train1,val1}.txt; names are file names. */
export async function writeDtd(root: string, spec: SplitSpec): Promise<void> {
  const ids = officialIds('dtd');
  const dir = path.join(root, 'dtd');
  for (const c of ids) mkdirSync(path.join(dir, 'images', c), { recursive: true });
  write(dir, 'labels/test1.txt', lines(spec.test.map(([c, f]) => `${ids[c]}/${f}`)));
  write(dir, 'labels/train1.txt', lines([`${ids[0]}/${ids[0]}_0001.jpg`]));
  write(dir, 'labels/val1.txt', lines([`${ids[0]}/${ids[0]}_0002.jpg`]));
  write(dir, 'labels/labels_joint_anno.txt', lines(spec.test.map(([c, f]) => `${ids[c]}/${f} ${ids[c]}`)));
  await images(dir, spec.test.map(([c, f]) => `images/${ids[c]}/${f}`), spec.missing, spec.test.map(([, f]) => f));
}

/**
 * A class-folder tree `ROOT/<sub>/<class>/<file>` with every official class folder and `counts[c]` images in class c,
 * named by `name(class, k)` for k = 1…count. Returns the written files as (class index, "<class>/<file>").
 */
export async function writeClassFolders(root: string, sub: string, datasetId: string, counts: Readonly<Record<number, number>>, name: (cls: string, k: number) => string): Promise<[number, string][]> {
  const ids = officialIds(datasetId);
  const dir = path.join(root, sub);
  for (const c of ids) mkdirSync(path.join(dir, c), { recursive: true });
  const written: [number, string][] = [];
  for (const [c, count] of Object.entries(counts)) {
    for (let k = 1; k <= count; k++) written.push([Number(c), `${ids[Number(c)]}/${name(ids[Number(c)], k)}`]);
  }
  await images(dir, written.map(([, rel]) => rel));
  return written;
}

/**
 * Stanford Cars: ROOT/stanford_cars/{devkit/cars_meta.mat,cars_test_annos_withlabels.mat,cars_test/<fname>} with the
 * devkit's struct layout (bbox_x1, bbox_y1, bbox_x2, bbox_y2, class, fname); entries are (class index 0…195, fname).
 */
export async function writeCars(root: string, spec: SplitSpec & { annosInDevkit?: boolean }): Promise<void> {
  const dir = path.join(root, 'stanford_cars');
  const names = officialIds('stanford-cars').map((id) => `car model ${id}`);
  write(dir, 'devkit/cars_meta.mat', writeMat({ class_names: { cell: names.map((n) => ({ char: n })), dims: [1, names.length] } }));
  const annos: MatIn = {
    struct: spec.test.map(([c, fname], i) => ({
      bbox_x1: { numeric: [10 + i], class: 'double', store: 'uint8' },
      bbox_y1: { numeric: [20], class: 'double', store: 'uint8' },
      bbox_x2: { numeric: [300 + i], class: 'double', store: 'uint16' },
      bbox_y2: { numeric: [200], class: 'double', store: 'uint8' },
      class: { numeric: [c + 1], class: 'double', store: 'uint8' },
      fname: { char: fname },
    })),
    fields: ['bbox_x1', 'bbox_y1', 'bbox_x2', 'bbox_y2', 'class', 'fname'],
    dims: [1, spec.test.length],
  };
  write(dir, spec.annosInDevkit ? 'devkit/cars_test_annos_withlabels.mat' : 'cars_test_annos_withlabels.mat', writeMat({ annotations: annos }, { compress: true }));
  await images(dir, spec.test.map(([, f]) => `cars_test/${f}`), spec.missing, spec.test.map(([, f]) => f));
}

/** ROOT/fgvc-aircraft-2013b/data/{variants.txt,images_variant_test.txt,images/<id>.jpg}; names are image ids. */
export async function writeAircraft(root: string, spec: SplitSpec): Promise<void> {
  const ids = officialIds('fgvc-aircraft');
  const dir = path.join(root, 'fgvc-aircraft-2013b', 'data');
  write(dir, 'variants.txt', lines(ids));
  write(dir, 'families.txt', lines(['Boeing 707']));
  write(dir, 'images_variant_test.txt', lines(spec.test.map(([c, id]) => `${id} ${ids[c]}`)));
  write(dir, 'images_variant_trainval.txt', lines([`0000001 ${ids[0]}`]));
  await images(dir, spec.test.map(([, id]) => `images/${id}.jpg`), spec.missing, spec.test.map(([, id]) => id));
}

/** ROOT/SUN397/{ClassName.txt,<class path>/<file>} and ROOT/Partitions/{ClassName.txt,Testing_01.txt,Training_01.txt}. */
export async function writeSun397(root: string, spec: SplitSpec): Promise<void> {
  const ids = officialIds('sun397');
  write(root, 'SUN397/ClassName.txt', lines(ids));
  write(root, 'SUN397/README.txt', 'SUN397\n');
  write(root, 'Partitions/ClassName.txt', lines(ids));
  write(root, 'Partitions/Testing_01.txt', lines(spec.test.map(([c, f]) => `${ids[c]}/${f}`)));
  write(root, 'Partitions/Training_01.txt', lines([`${ids[0]}/sun_train.jpg`]));
  await images(root, spec.test.map(([c, f]) => `SUN397${ids[c]}/${f}`), spec.missing, spec.test.map(([, f]) => f));
}
