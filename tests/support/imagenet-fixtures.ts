/** ImageNet-family fixtures in their native layouts: folders, a devkit meta.mat, ObjectNet's mapping files. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { imagenetWnids } from '../../src/datasets/wnids.js';
import { writeMat, type MatIn } from './mat5-writer.js';

export const W = imagenetWnids();

export function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `clip-bench-${prefix}-`));
}

/** Empty files: enough where adapters only list samples and labels are what is checked. */
export function touch(root: string, ...rels: string[]): void {
  for (const rel of rels) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), '');
  }
}

export function write(root: string, rel: string, content: string | Uint8Array): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), content);
}

export function dirs(root: string, names: readonly string[]): void {
  for (const n of names) mkdirSync(path.join(root, n), { recursive: true });
}

/** A devkit meta.mat: 1000 leaf synsets with ILSVRC2012_ID k → W[perm(k)], plus non-leaf synsets, as the devkit has. */
export const permBase = (id: number) => (7 * id + 3) % 1000;
export const REAL: Record<number, number> = { 1: 278, 2: 212 };
/** a bijection of 1…1000 onto 0…999 with the real devkit's first two ids, the rest swapped out of their way */
export const perm = (id: number): number => {
  if (REAL[id] !== undefined) return REAL[id];
  const b = permBase(id);
  const displaced = Object.entries(REAL).find(([, idx]) => idx === b);
  return displaced ? permBase(Number(displaced[0])) : b;
};
export function metaMat(compress: boolean, override?: (id: number) => string): Uint8Array {
  // the real devkit's first two ids; the rest a permutation, so ids are never class indices
  if (new Set(Array.from({ length: 1000 }, (_, i) => perm(i + 1))).size !== 1000) throw new Error('perm is not a bijection');
  const synset = (id: number, wnid: string, words: string, children: number[], height: number): Record<string, MatIn> => ({
    ILSVRC2012_ID: { numeric: [id], store: id < 256 ? 'uint8' : 'uint16' },
    WNID: { char: wnid },
    words: { char: words },
    gloss: { char: `gloss of ${words}` },
    num_children: { numeric: [children.length], store: 'uint8' },
    children: children.length ? { numeric: children, store: 'uint16' } : { numeric: [], dims: [1, 0] },
    wordnet_height: { numeric: [height], store: 'uint8' },
    num_train_images: { numeric: [children.length ? 0 : 1300], store: 'uint16' },
  });
  const leaves = Array.from({ length: 1000 }, (_, i) => synset(i + 1, override?.(i + 1) ?? W[perm(i + 1)], `class ${i + 1}`, [], 0));
  const inner = [synset(1001, 'n00001740', 'entity', [1002, 1003], 19), synset(1002, 'n00001930', 'physical entity', [1, 2], 18), synset(1003, 'n00002137', 'abstraction', [3], 18)];
  return writeMat({ synsets: { struct: [...leaves, ...inner], dims: [1003, 1] } }, { compress });
}

/** ILSVRC2012_val_0000000n.JPEG for n = 1…count. */
export const valName = (n: number) => `ILSVRC2012_val_${String(n).padStart(8, '0')}.JPEG`;
export const GT = [1, 2, 1000, 1, 500, 2];

export const IN_NAMES: Record<number, string> = {
  409: 'analog clock',
  530: 'digital clock',
  414: 'backpack, back pack, knapsack, packsack, rucksack, haversack',
  423: 'barber chair',
  559: 'folding chair',
  765: 'rocking chair, rocker',
  671: 'mountain bike, all-terrain bike, off-roader',
  444: 'bicycle-built-for-two, tandem bicycle, tandem',
  278: 'kit fox, Vulpes macrotis',
};
export const base2012 = (p: number) => (7 * p + 3) % 1000;
export const to2012 = (p: number) => (p === 278 ? 0 : base2012(p) === 0 ? base2012(278) : base2012(p));

export function objectnetMappings(root: string, change: { objectnetToImagenet?: Record<string, string>; drop?: string; crane?: boolean } = {}): void {
  write(
    root,
    'mappings/folder_to_objectnet_label.json',
    JSON.stringify({ air_freshener: 'Air freshener', alarm_clock: 'Alarm clock', backpack: 'Backpack', bicycle: 'Bicycle', chair: 'Chair' }, null, 2),
  );
  write(
    root,
    'mappings/objectnet_to_imagenet_1k.json',
    JSON.stringify(
      change.objectnetToImagenet ?? {
        'Alarm clock': 'analog clock; digital clock',
        Backpack: 'backpack, back pack, knapsack, packsack, rucksack, haversack',
        Chair: 'barber chair; folding chair; rocking chair, rocker',
        Bicycle: 'mountain bike, all-terrain bike, off-roader; bicycle-built-for-two, tandem bicycle, tandem',
      },
      null,
      2,
    ),
  );
  const lines = new Array<string>(1000);
  for (let p = 0; p < 1000; p++) lines[to2012(p)] = IN_NAMES[p] ?? (change.crane && (p === 134 || p === 517) ? 'crane' : `imagenet class ${p}`);
  write(root, 'mappings/imagenet_to_label_2012_v2', lines.join('\n') + '\n');
  write(root, 'mappings/pytorch_to_imagenet_2012_id.json', JSON.stringify(Object.fromEntries(Array.from({ length: 1000 }, (_, p) => [String(p), to2012(p)])), null, 2));
  if (change.drop) rmSync(path.join(root, 'mappings', change.drop));
}
