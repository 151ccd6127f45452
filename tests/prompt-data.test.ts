/**
 * The paper's prompt sets (configs/prompts/<dataset>.json) checked against the reference hashes in
 * the reference folder's prompts/ (tests/support/reference.ts): class count, template count, the sha256 of every template (in order) and of
 * every class name (synonym lists included), and configs/datasets/imagenet-wnids.json.
 *
 * The reference lists classes in the order of OpenAI's lists (data/prompts.md, the ImageNet notebook). Our
 * sets are keyed by the dataset's own class ids, so each case says which of our ids sits at each reference
 * position: by default our own label order (the JSON order; integer-like ids such as "0".."99" come out of
 * Object.keys in ascending numeric order), and an explicit order where OpenAI's list differs (see `order`).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet, type PromptSet } from '../src/prompts/prompt-set.js';
import { reference } from './support/reference.js';

const promptsRef = reference('prompts', 'the paper prompt sets against the reference hashes');
const REF_DIR = promptsRef.path;
const HAVE_REF = promptsRef.present;

const WNIDS_FILE = path.join(packageRoot, 'configs', 'datasets', 'imagenet-wnids.json');

interface RefPrompts {
  dataset: string;
  n_classes?: number;
  n_templates: number;
  classnames_sha256?: (string | string[])[];
  templates_sha256: string[];
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
/** The reference hashes the templates with Python's `{}` placeholder where ours have `{c}`. */
const asReferenceTemplate = (t: string): string => t.replaceAll('{c}', '{}');
/** Code-unit order: the same as Python's sorted() for these ASCII ids. */
const sortedIds = (ids: string[]): string[] => [...ids].sort();

function readRef(name: string): RefPrompts {
  return JSON.parse(readFileSync(path.join(REF_DIR, `${name}.json`), 'utf8')) as RefPrompts;
}

function readWnids(): string[] {
  return (JSON.parse(readFileSync(WNIDS_FILE, 'utf8')) as { wnids: string[] }).wnids;
}

interface Case {
  /** reference file name (without .json) */
  ref: string;
  /** our prompt set id */
  set: string;
  /** our class ids in the reference's order; default: our label order */
  order?: (ids: string[]) => string[];
  /** where the class hashes come from when the reference file has none (ImageNet-7 inherits ImageNet's classes) */
  classRef?: string;
}

const CASES: Case[] = [
  // ImageNet: class index order is ascending wnid order, which is the notebook's order.
  { ref: 'ImageNet', set: 'imagenet', order: () => readWnids() },
  { ref: 'ImageNet-7', set: 'imagenet-7', order: () => readWnids(), classRef: 'ImageNet' },
  { ref: 'Birdsnap', set: 'birdsnap' },
  { ref: 'CIFAR10', set: 'cifar10' },
  { ref: 'CIFAR100', set: 'cifar100' },
  // CLEVR counts: ids are the counts 3..10; OpenAI lists them as sorted strings ('10' first), as a listing of
  // count-named folders gives.
  { ref: 'CLEVRCounts', set: 'clevr-counts', order: sortedIds },
  { ref: 'Caltech101', set: 'caltech101' },
  { ref: 'Country211', set: 'country211' },
  { ref: 'DescribableTextures', set: 'dtd' },
  // EuroSAT: our ids are the class folders in sorted (label) order; OpenAI's list has its own order.
  {
    ref: 'EuroSAT',
    set: 'eurosat',
    order: () => ['Forest', 'PermanentCrop', 'Residential', 'River', 'Pasture', 'SeaLake', 'HerbaceousVegetation', 'AnnualCrop', 'Industrial', 'Highway'],
  },
  { ref: 'FGVCAircraft', set: 'fgvc-aircraft' },
  { ref: 'FacialEmotionRecognition2013', set: 'fer2013' },
  { ref: 'Flowers102', set: 'flowers102' },
  { ref: 'Food101', set: 'food101' },
  { ref: 'GTSRB', set: 'gtsrb' },
  { ref: 'HatefulMemes', set: 'hateful-memes' },
  { ref: 'KITTI', set: 'kitti' },
  { ref: 'Kinetics700', set: 'kinetics700' },
  { ref: 'MNIST', set: 'mnist' },
  // Oxford-IIIT Pet: our ids are in the official CLASS-ID order (case-insensitive alphabetical); OpenAI sorts them
  // case-sensitively, so the capitalised cat breeds come first.
  { ref: 'OxfordPets', set: 'oxford-pets', order: sortedIds },
  // VOC 2007: our ids are in the official alphabetical order; OpenAI's list puts diningtable and pottedplant after sofa.
  {
    ref: 'PascalVOC2007',
    set: 'voc2007',
    order: () => ['aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'dog', 'horse', 'motorbike', 'person', 'sheep', 'sofa', 'diningtable', 'pottedplant', 'train', 'tvmonitor'],
  },
  { ref: 'PatchCamelyon', set: 'pcam' },
  { ref: 'RESISC45', set: 'resisc45' },
  { ref: 'SST2', set: 'sst2' },
  { ref: 'STL10', set: 'stl10' },
  // SUN397: our ids are the ClassName.txt paths in their sorted order; OpenAI sorts the flattened names
  // ('/j/jail_cell' → 'jail_cell' before '/j/jail/indoor' → 'jail_indoor').
  { ref: 'SUN397', set: 'sun397', order: (ids) => [...ids].sort((a, b) => cmp(a.slice(3).replaceAll('/', '_'), b.slice(3).replaceAll('/', '_'))) },
  { ref: 'StanfordCars', set: 'stanford-cars' },
  { ref: 'UCF101', set: 'ucf101' },
];

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Comparison {
  classesMatched: number;
  classesExpected: number;
  templatesMatched: number;
  templatesExpected: number;
  /** every entry that differs from the reference, spelled out */
  diffs: string[];
}

function compare(set: PromptSet, ref: RefPrompts, classHashes: (string | string[])[] | undefined, order: string[]): Comparison {
  const diffs: string[] = [];

  const ours = set.templates;
  const refT = ref.templates_sha256;
  if (ours.length !== ref.n_templates) diffs.push(`${ours.length} templates, the reference has ${ref.n_templates}`);
  let templatesMatched = 0;
  for (let i = 0; i < Math.max(ours.length, refT.length); i++) {
    if (i < ours.length && i < refT.length && sha256(asReferenceTemplate(ours[i])) === refT[i]) templatesMatched++;
    else diffs.push(`template ${i}: ${i < ours.length ? JSON.stringify(ours[i]) : '(missing)'} does not match the reference's template ${i}`);
  }

  let classesMatched = 0;
  const classesExpected = classHashes?.length ?? 0;
  if (classHashes) {
    const classes = set.classes ?? {};
    const ids = Object.keys(classes);
    if (ids.length !== classHashes.length) diffs.push(`${ids.length} classes, the reference has ${classHashes.length}`);
    const orderSet = new Set(order);
    const notOrdered = ids.filter((id) => !orderSet.has(id));
    const unknown = order.filter((id) => !(id in classes));
    if (orderSet.size !== order.length) diffs.push('the reference order lists a class id twice');
    if (notOrdered.length) diffs.push(`class ids missing from the reference order: ${notOrdered.join(', ')}`);
    if (unknown.length) diffs.push(`reference-order ids that the prompt set lacks: ${unknown.join(', ')}`);
    for (let i = 0; i < classHashes.length; i++) {
      const id = order[i];
      const v = id === undefined ? undefined : classes[id];
      const r = classHashes[i];
      const names = v === undefined ? [] : typeof v === 'string' ? [v] : v;
      const refNames = Array.isArray(r) ? r : [r];
      const sameShape = v !== undefined && Array.isArray(v) === Array.isArray(r) && names.length === refNames.length;
      if (sameShape && names.every((n, j) => sha256(n) === refNames[j])) {
        classesMatched++;
      } else {
        const want = Array.isArray(r) ? `a list of ${r.length} synonym(s)` : 'one name';
        diffs.push(`class ${i} (id ${JSON.stringify(id)}): ${v === undefined ? '(missing)' : JSON.stringify(v)} does not match the reference's class ${i} (${want})`);
      }
    }
  }
  return { classesMatched, classesExpected, templatesMatched, templatesExpected: ref.n_templates, diffs };
}

describe.skipIf(!HAVE_REF)('the paper prompt sets match the reference hashes (OpenAI data/prompts.md and ImageNet notebook)', () => {
  it('every reference dataset has a prompt set here', () => {
    const refs = readdirSync(REF_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
    expect(CASES.map((c) => c.ref).sort()).toEqual(refs);
  });

  it.each(CASES.map((c) => [c.ref, c.set, c] as const))('%s → configs/prompts/%s.json', (_ref, _set, c) => {
    const ref = readRef(c.ref);
    const set = loadPromptSet(c.set);
    const classHashes = ref.classnames_sha256 ?? (c.classRef ? readRef(c.classRef).classnames_sha256 : undefined);
    const ids = Object.keys(set.classes ?? {});
    const order = c.order ? c.order(ids) : ids;
    const r = compare(set, ref, classHashes, order);
    const classes = classHashes ? `${r.classesMatched}/${r.classesExpected}${c.classRef ? ` (${c.classRef}'s)` : ''}` : 'none';
    console.log(`${ref.dataset}: classes ${classes}, templates ${r.templatesMatched}/${r.templatesExpected}`);
    if (r.diffs.length) console.log(`${ref.dataset} differs from the reference:\n  ${r.diffs.join('\n  ')}`);
    expect(r.diffs).toEqual([]);
    if (ref.n_classes !== undefined) expect(ids).toHaveLength(ref.n_classes);
    expect(set.templates).toHaveLength(ref.n_templates);
  });
});

describe('configs/datasets/imagenet-wnids.json', () => {
  const wnids = readWnids();

  it('lists 1000 unique WordNet ids, strictly ascending (ImageNet class-index order)', () => {
    expect(wnids).toHaveLength(1000);
    expect(new Set(wnids).size).toBe(1000);
    for (const w of wnids) expect(w).toMatch(/^n\d{8}$/);
    const notAscending = wnids.slice(1).flatMap((w, i) => (wnids[i] < w ? [] : [`${wnids[i]} ≥ ${w} at ${i + 1}`]));
    expect(notAscending).toEqual([]);
    expect(wnids[0]).toBe('n01440764');
    expect(wnids[999]).toBe('n15075141');
  });

  it("matches the keys of imagenet.json, in the same order, and imagenet-7 shares them", () => {
    const imagenet = loadPromptSet('imagenet');
    expect(Object.keys(imagenet.classes ?? {})).toEqual(wnids);
    expect(imagenet.classes?.n01440764).toBe('tench');
    const seven = loadPromptSet('imagenet-7');
    expect(Object.keys(seven.classes ?? {})).toEqual(wnids);
    expect(seven.templates).toHaveLength(7);
  });
});
