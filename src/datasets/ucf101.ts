/**
 * UCF101 action recognition, scored on one frame per video: the paper classifies the middle frame of each
 * video. The distribution is videos (UCF101.rar, .avi), so this adapter reads frames extracted beforehand,
 * one per video, named like the video: `ROOT/<Class>/<video>.{png,jpg}` (e.g.
 * `ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.png`).
 *
 * Splits `testlist01`–`testlist03` are the official lists `ROOT/ucfTrainTestlist/testlist0N.txt`
 * (lines `<Class>/<video>.avi`); every listed video needs its frame. Split `frames` takes every frame under
 * the class folders, with no list. Class ids are the classInd.txt names, label = classInd index − 1.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { classFolderMap, isFile, listDir, nonEmptyLines, promptClassIds, readTextFile, some } from './benchmark-fs.js';
import { imageFolderSamples } from './imagefolder.js';
import type { DatasetAdapter, Sample } from './types.js';

const LISTS = 'ucfTrainTestlist';
const FRAME_EXTS = ['.png', '.jpg', '.jpeg'];
const LAYOUT = `ROOT/<Class>/<video>.{png,jpg}: one extracted middle frame per video, named as the video (e.g. ROOT/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.png), with ROOT/${LISTS}/{classInd.txt,testlist01.txt,…} from UCF101TrainTestSplits-RecognitionTask.zip`;
const EXTRACT = 'extract the middle frame of each video (see the README: ffmpeg with select=eq(n\\,N/2))';

const ucfClassIds = () => promptClassIds('ucf101');

/** Checks `classInd.txt` (`<index> <Class>` lines) against the class order used here, when it is there. */
async function checkClassInd(root: string, classIds: readonly string[]): Promise<void> {
  const file = path.join(root, LISTS, 'classInd.txt');
  if (!(await isFile(file))) return;
  const names = nonEmptyLines(await readTextFile(file, 'use classInd.txt of UCF101TrainTestSplits-RecognitionTask.zip')).map((l) => l.trim().split(/\s+/));
  const fix = 'use classInd.txt of UCF101TrainTestSplits-RecognitionTask.zip';
  if (names.length !== classIds.length) throw new UsageError(`lists ${names.length} classes, not UCF101's ${classIds.length}`, { file, fix });
  const bad = names.findIndex(([i, name], k) => Number(i) !== k + 1 || name !== classIds[k]);
  if (bad >= 0) throw new UsageError(`line ${bad + 1} is "${names[bad].join(' ')}", expected "${bad + 1} ${classIds[bad]}"`, { file, fix });
}

/** `ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi` per line (a trainlist's trailing label is ignored). */
export function parseUcfList(text: string): string[] {
  return nonEmptyLines(text).map((l) => l.trim().split(/\s+/)[0]);
}

async function* listedSamples(root: string, split: string, classIds: readonly string[]): AsyncGenerator<Sample> {
  const listFile = path.join(root, LISTS, `${split}.txt`);
  if (!(await isFile(listFile))) {
    const frames = (await listDir(root)).dirs.filter((d) => classIds.includes(d)).length;
    throw new UsageError(`no ${LISTS}/${split}.txt here${frames ? ` (${frames} class folders of frames are)` : ''}; expected ${LAYOUT}`, {
      file: root,
      fix: `extract UCF101TrainTestSplits-RecognitionTask.zip into ROOT, or pass --split frames to evaluate every frame under the class folders`,
    });
  }
  const index = new Map(classIds.map((id, i) => [id, i]));
  const missing: string[] = [];
  const out: Sample[] = [];
  for (const video of parseUcfList(await readTextFile(listFile, 'use the lists of UCF101TrainTestSplits-RecognitionTask.zip'))) {
    const [cls, file] = video.split('/');
    const label = index.get(cls);
    if (label === undefined || !file) throw new UsageError(`"${video}" is not <Class>/<video>.avi with a UCF101 class`, { file: listFile, fix: 'use the lists of UCF101TrainTestSplits-RecognitionTask.zip' });
    const stem = file.replace(/\.avi$/i, '');
    let found: string | undefined;
    for (const ext of FRAME_EXTS) {
      if (await isFile(path.join(root, cls, stem + ext))) {
        found = `${cls}/${stem}${ext}`;
        break;
      }
    }
    if (found) out.push({ key: found, path: path.join(root, ...found.split('/')), label });
    else missing.push(`${cls}/${stem}`);
  }
  if (missing.length) {
    throw new UsageError(`${missing.length} of the videos in ${split}.txt have no extracted frame ROOT/<Class>/<video>.{png,jpg}: ${some(missing)}`, { file: root, fix: EXTRACT });
  }
  yield* out;
}

async function* ucfSamples(root: string, split: string): AsyncGenerator<Sample> {
  const classIds = ucfClassIds();
  await checkClassInd(root, classIds);
  if (split !== 'frames') {
    yield* listedSamples(root, split, classIds);
    return;
  }
  const folders = await classFolderMap(root, classIds, { all: false, fix: `pass the folder holding the <Class>/ folders of frames`, what: 'UCF101', ignore: [LISTS] });
  let n = 0;
  for (let label = 0; label < classIds.length; label++) {
    if (folders[label] === undefined) continue;
    for await (const s of imageFolderSamples(root, [folders[label]!])) {
      n++;
      yield { ...s, label };
    }
  }
  if (n === 0) throw new UsageError('no frames under the class folders', { file: root, fix: EXTRACT });
}

export const ucf101 = {
  id: 'ucf101',
  description:
    'UCF101 action recognition on the middle frame of each video (extracted beforehand; the distribution is videos). Split testlist01 (default; 3,783 videos) is the official first test list; frames = every extracted frame. 101 classes in classInd.txt order.',
  splits: ['testlist01', 'testlist02', 'testlist03', 'frames'],
  layout: LAYOUT,
  expectedCount: { testlist01: 3_783, testlist02: 3_734, testlist03: 3_696 },
  defaultPrompts: 'ucf101',
  metric: 'top1',
  async classIds(root: string) {
    await listDir(root);
    const ids = ucfClassIds();
    await checkClassInd(root, ids);
    return ids;
  },
  samples: (root: string, split: string) => ucfSamples(root, split),
} as const satisfies DatasetAdapter;
