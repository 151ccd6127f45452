/**
 * Datasets shipped as `<top>/<split>/<class>/<image>` (OpenAI's Country211 and Rendered SST2): one
 * ImageFolder per split, whose class folders must be exactly the dataset's classes (the prompt set's keys).
 * --root may be the distribution's top folder or its parent.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { classFolderMap, firstFitting, isDirectory, layoutMismatch } from './benchmark-fs.js';
import { imageFolderSamples } from './imagefolder.js';
import type { DatasetAdapter } from './types.js';

export interface SplitFoldersSpec {
  id: string;
  /** the archive's top folder, e.g. country211 */
  top: string;
  description: string;
  /** splits (default first) with their official sizes */
  counts: Record<string, number>;
  /** class ids in label order (sorted folder names) */
  classIds: () => string[];
  /** e.g. "<ISO 3166 code>" for the layout line */
  classPattern: string;
  ext: string;
  archive: string;
  prompts: string;
}

export function splitFoldersAdapter(spec: SplitFoldersSpec): DatasetAdapter {
  const splits = Object.keys(spec.counts);
  const layout = `ROOT/${spec.top}/{${splits.join(',')}}/${spec.classPattern}/*.${spec.ext} (or ROOT = ${spec.top}/), as ${spec.archive} unpacks`;
  const fix = `pass the folder ${spec.archive} unpacked into (holding ${spec.top}/) or ${spec.top}/ itself`;
  const splitDir = async (root: string, split: string) => {
    const dir = await firstFitting(root, [split, path.join(spec.top, split)], isDirectory);
    if (!dir) throw await layoutMismatch(root, layout, fix, `no ${split}/ folder`);
    return dir;
  };
  const checked = async (root: string, split: string) => {
    const dir = await splitDir(root, split);
    const ids = spec.classIds();
    await classFolderMap(dir, ids, { all: true, fix: `the ${split}/ folder of ${spec.archive} has one folder per class`, what: spec.id });
    return { dir, ids };
  };
  return {
    id: spec.id,
    description: spec.description,
    splits,
    layout,
    expectedCount: spec.counts,
    defaultPrompts: spec.prompts,
    metric: 'top1',
    async classIds(root: string, split: string) {
      return (await checked(root, split)).ids;
    },
    async *samples(root: string, split: string) {
      const { dir, ids } = await checked(root, split);
      let n = 0;
      for await (const s of imageFolderSamples(dir, ids)) {
        n++;
        yield s;
      }
      if (n === 0) throw new UsageError(`no images under the ${ids.length} class folders`, { file: dir, fix: `extract all of ${spec.archive}` });
    },
  };
}
