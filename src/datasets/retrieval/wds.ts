/**
 * CLIP_benchmark's WebDataset retrieval shards (`clip_benchmark_export_wds --retrieval`, `clip-benchmark/wds_flickr30k`…):
 * `ROOT/dataset_type.txt` = "retrieval", `ROOT/<split>/0.tar …` with `nshards.txt`; each sample is an image
 * (`.webp`, `.png`, `.jpg`, `.jpeg`, the first present) and `.txt`, its captions one per line, split as
 * Python's `str.splitlines` (the writer escaped newlines inside a caption as a literal `\n`, which stays).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { isFile } from '../imagenet-fs.js';
import { indexTar, readTarMember } from '../tar.js';
import { groupMembers, splitMemberName, WDS_IMAGE_SUFFIXES, wdsShards } from '../webdataset.js';
import { assemble, type ListedImage } from './assemble.js';
import type { RetrievalData } from './types.js';

export const WDS_TYPE_FILE = 'dataset_type.txt';
export const RETRIEVAL_WDS_LAYOUT = `ROOT/${WDS_TYPE_FILE} ("retrieval") and ROOT/<split>/0.tar, 1.tar, … (with nshards.txt), each sample <key>.{webp,png,jpg,jpeg} + <key>.txt (its captions, one per line), as CLIP_benchmark exports them`;

/** Python's `str.splitlines()`: every line boundary it knows, no trailing empty line. */
export function pySplitlines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Whether ROOT declares itself a retrieval WebDataset (its type file says "retrieval"). */
export async function isRetrievalWds(root: string): Promise<boolean> {
  const file = path.join(root, WDS_TYPE_FILE);
  return (await isFile(file)) && (await readFile(file, 'utf8')).trim().toLowerCase() === 'retrieval';
}

export async function readRetrievalWds(root: string, split: string): Promise<RetrievalData> {
  const listed: ListedImage[] = [];
  const shards = await wdsShards(root, split);
  for (const shard of shards) {
    const name = path.basename(shard);
    for (const { key, members } of groupMembers(shard, await indexTar(shard, { contents: (n) => splitMemberName(n)?.suffix === 'txt' }))) {
      const suffix = WDS_IMAGE_SUFFIXES.slice(0, 4).find((s) => members.has(s));
      const txt = members.get('txt');
      if (!suffix || !txt) {
        throw new UsageError(`sample "${key}" has no ${suffix ? '.txt captions' : 'image (.webp, .png, .jpg, .jpeg)'} member; it has: ${[...members.keys()].map((s) => `.${s}`).join(', ')}`, {
          file: shard,
          fix: 'every sample needs <key>.<image suffix> beside <key>.txt',
        });
      }
      const captions = pySplitlines(new TextDecoder().decode(txt.data!));
      const empty = captions.findIndex((c) => c.trim() === '');
      if (captions.length === 0 || empty >= 0) {
        throw new UsageError(`sample "${key}" has ${captions.length === 0 ? 'no captions' : `an empty caption (line ${empty + 1} of ${key}.txt)`}`, { file: shard, fix: 'give every sample one non-empty caption per line' });
      }
      const image = members.get(suffix)!;
      listed.push({ key: `${name}/${key}`, path: shard, load: () => readTarMember(shard, image), captions });
    }
  }
  if (listed.length === 0) throw new UsageError(`the ${shards.length} shards of split ${split} hold no samples`, { file: path.join(root, split), fix: 'download the shards again' });
  return assemble(listed, listed.map(() => true), `CLIP_benchmark WebDataset shards ${split}/0.tar…${shards.length - 1}.tar`);
}
