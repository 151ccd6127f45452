/**
 * WebDataset shards as CLIP_benchmark publishes them (`clip-benchmark/wds_*` on Hugging Face):
 * `ROOT/<split>/0.tar, 1.tar, …` with `ROOT/<split>/nshards.txt`, the class names in label order in
 * `ROOT/classnames.txt` and the zero-shot templates in `ROOT/zeroshot_classification_templates.txt`.
 * Tar members sharing a key (the name up to the first dot of its last path component, as webdataset
 * groups them) form one sample: an image (`.webp`, `.png`, `.jpg`, `.jpeg` — CLIP_benchmark's order of
 * preference — or another image extension) and `.cls`, the integer label as text. Shards are indexed
 * from their headers and each image is read at its offset: nothing is unpacked.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { IMAGE_EXTENSIONS, requireDirectory } from './imagefolder.js';
import { describeListing, isDirectory, isFile, listDir } from './imagenet-fs.js';
import { indexTar, readTarMember, type TarMember } from './tar.js';
import type { DatasetAdapter, Sample } from './types.js';

export const WDS_CLASSNAMES = 'classnames.txt';
export const WDS_TEMPLATES = 'zeroshot_classification_templates.txt';

/** Image suffixes in order of preference when a sample has several: CLIP_benchmark's, then torchvision's others. */
export const WDS_IMAGE_SUFFIXES = [...new Set(['webp', 'png', 'jpg', 'jpeg', ...IMAGE_EXTENSIONS.map((e) => e.slice(1))])];

export const WDS_LAYOUT =
  `ROOT/<split>/0.tar, 1.tar, … (with ROOT/<split>/nshards.txt), each member pair <key>.{${WDS_IMAGE_SUFFIXES.slice(0, 4).join(',')}} + <key>.cls (integer label); ` +
  `ROOT/${WDS_CLASSNAMES} (one class per line, label order); ROOT/${WDS_TEMPLATES} (one template with {c} per line), as in clip-benchmark/wds_*`;

/** webdataset's `base_plus_ext`: the key is the path up to the first dot of the last component; the suffix (lower-cased) is the rest. */
export function splitMemberName(name: string): { key: string; suffix: string } | undefined {
  const m = /^((?:.*\/|)[^./]+)\.([^/]*)$/.exec(name);
  return m ? { key: m[1], suffix: m[2].toLowerCase() } : undefined;
}

/** Lines of a text list; blank lines may only trail (a blank line inside would shift every later label). */
async function listFile(file: string, what: string): Promise<string[]> {
  const lines = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '').split(/\r?\n/).map((l) => l.trim());
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const blank = lines.indexOf('');
  if (blank >= 0) throw new UsageError(`line ${blank + 1} is blank`, { file: `${file}:${blank + 1}`, fix: `give one ${what} per line, without blank lines` });
  if (lines.length === 0) throw new UsageError(`no ${what}s`, { file, fix: `give one ${what} per line` });
  return lines;
}

function layoutError(root: string, detail: string, fix: string): UsageError {
  return new UsageError(`${detail}; expected a CLIP_benchmark WebDataset: ${WDS_LAYOUT}`, { file: root, fix });
}

/** The class names of `ROOT/classnames.txt`, which are also the class ids. */
export async function wdsClassNames(root: string): Promise<string[]> {
  await requireDirectory(root);
  const file = path.join(root, WDS_CLASSNAMES);
  if (!(await isFile(file))) throw layoutError(root, `no ${WDS_CLASSNAMES}; found ${describeListing(await listDir(root))}`, `add ${WDS_CLASSNAMES} (one class name per line, in label order)`);
  const typeFile = path.join(root, 'dataset_type.txt');
  if (await isFile(typeFile)) {
    const type = (await readFile(typeFile, 'utf8')).trim().toLowerCase();
    if (type !== 'classification') throw new UsageError(`this is a "${type}" dataset, not a classification one`, { file: typeFile, fix: 'clip-bench evaluates zero-shot classification only' });
  }
  return listFile(file, 'class name');
}

/** The shard files of a split, in shard order: `0.tar … (n-1).tar` from nshards.txt, else every numbered shard (which must run from 0 without gaps). */
export async function wdsShards(root: string, split: string): Promise<string[]> {
  await requireDirectory(root);
  const dir = path.join(root, split);
  if (!(await isDirectory(dir))) throw layoutError(root, `no ${split}/ folder; found ${describeListing(await listDir(root))}`, `pass --split with one of the split folders, or point --root at the dataset folder`);
  const nshardsFile = path.join(dir, 'nshards.txt');
  let count: number;
  if (await isFile(nshardsFile)) {
    const text = (await readFile(nshardsFile, 'utf8')).trim();
    count = /^\d+$/.test(text) ? Number(text) : 0;
    if (count < 1) throw new UsageError(`expected a positive shard count, found ${JSON.stringify(text.slice(0, 20))}`, { file: nshardsFile, fix: 'write the number of shards (e.g. 3 for 0.tar, 1.tar, 2.tar)' });
  } else {
    const numbered = (await readdir(dir)).filter((f) => /^\d+\.tar$/.test(f)).map((f) => Number(f.slice(0, -4)));
    if (numbered.length === 0) throw layoutError(dir, `no numbered shards (0.tar, 1.tar, …); found ${describeListing(await listDir(dir))}`, 'point --root at the dataset folder that holds the split folders');
    count = Math.max(...numbered) + 1;
  }
  const shards = Array.from({ length: count }, (_, i) => path.join(dir, `${i}.tar`));
  for (const s of shards) {
    if (!(await isFile(s))) throw new UsageError(`shard ${path.basename(s)} of ${count} is missing`, { file: s, fix: 'download every shard of the split (nshards.txt says how many)' });
  }
  return shards;
}

export interface Group {
  key: string;
  members: Map<string, TarMember>;
}

/** Consecutive members sharing a key, as webdataset groups them; a key seen again later, or a suffix twice, is an error. */
export function groupMembers(shard: string, members: readonly TarMember[]): Group[] {
  const groups: Group[] = [];
  const seen = new Set<string>();
  for (const m of members) {
    const parts = splitMemberName(m.name);
    if (!parts) continue; // no suffix: not part of any sample (webdataset skips it too)
    let g = groups[groups.length - 1];
    if (!g || g.key !== parts.key) {
      if (seen.has(parts.key)) throw new UsageError(`sample key "${parts.key}" appears in two places`, { file: shard, fix: "keep each sample's members together under one key" });
      seen.add(parts.key);
      g = { key: parts.key, members: new Map() };
      groups.push(g);
    }
    if (g.members.has(parts.suffix)) throw new UsageError(`member ${m.name} appears twice in sample "${parts.key}"`, { file: shard, fix: 'rewrite the shard with one member per suffix and key' });
    g.members.set(parts.suffix, m);
  }
  return groups;
}

/** One shard's samples; `classCount` bounds the labels. */
export async function wdsShardSamples(shard: string, classCount: number): Promise<Sample[]> {
  const name = path.basename(shard);
  const groups = groupMembers(shard, await indexTar(shard, { contents: (n) => splitMemberName(n)?.suffix === 'cls' }));
  return groups.map(({ key, members }) => {
    const suffix = WDS_IMAGE_SUFFIXES.find((s) => members.has(s));
    if (!suffix) {
      throw new UsageError(`sample "${key}" has no image member (.${WDS_IMAGE_SUFFIXES.slice(0, 4).join(', .')}, …); it has: ${[...members.keys()].map((s) => `.${s}`).join(', ')}`, {
        file: shard,
        fix: 'every sample needs <key>.<image suffix> beside <key>.cls',
      });
    }
    const cls = members.get('cls');
    if (!cls) {
      const other = members.has('npy') ? ' (multi-label .npy targets are not supported)' : '';
      throw new UsageError(`sample "${key}" has no .cls label member${other}`, { file: shard, fix: 'every sample needs <key>.cls holding its integer class index' });
    }
    const text = new TextDecoder().decode(cls.data!).trim();
    const label = /^\d+$/.test(text) ? Number(text) : -1;
    if (label < 0 || label >= classCount) {
      throw new UsageError(`sample "${key}" has label ${JSON.stringify(text.slice(0, 20))}, not a class index 0…${classCount - 1}`, {
        file: shard,
        fix: `labels index the ${classCount} lines of ${WDS_CLASSNAMES}: check that it belongs to these shards`,
      });
    }
    const image = members.get(suffix)!;
    return { key: `${name}/${key}`, path: shard, label, load: () => readTarMember(shard, image) };
  });
}

export const webdataset = {
  id: 'webdataset',
  description:
    "CLIP_benchmark's WebDataset shards (clip-benchmark/wds_*): samples in shard and tar order, class ids = the lines of classnames.txt, " +
    'prompts = its own classnames.txt × zeroshot_classification_templates.txt (or "a photo of a {c}." where the templates file is absent). Images are read from the shards in place.',
  splits: ['test', 'train', 'validation'],
  layout: WDS_LAYOUT,
  classIds: (root: string) => wdsClassNames(root),
  /** The folder itself: `loadPromptSet` reads its classnames.txt and templates file. */
  defaultPrompts: (_classIds: readonly string[], root: string) => (existsSync(path.join(root, WDS_TEMPLATES)) ? root : 'single'),
  defaultPromptsNote: "the root's classnames.txt × zeroshot_classification_templates.txt; single without a templates file",
  async *samples(root: string, split: string) {
    const classCount = (await wdsClassNames(root)).length;
    for (const shard of await wdsShards(root, split)) yield* await wdsShardSamples(shard, classCount);
  },
} as const satisfies DatasetAdapter;
