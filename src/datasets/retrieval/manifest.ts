/**
 * A generic retrieval manifest: `--root` is a `.csv` (header naming `path` and `caption` columns, RFC 4180
 * quoting) or a `.jsonl` file (`{"path": …, "caption": …}` per line), one row per caption. Paths resolve
 * against the manifest's folder and key the image as written; images in order of first appearance, each with
 * its captions in row order (the same grouping as CLIP_benchmark's Flickr files).
 */
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { csvPathRows, jsonlObjects, readManifestText, rowError } from '../manifest.js';
import { assemble, filesPresent, type ListedImage } from './assemble.js';
import type { RetrievalData } from './types.js';

export const RETRIEVAL_MANIFEST_LAYOUT =
  '--root is a manifest file, one row per caption: a .csv whose header names "path" and "caption" columns (RFC 4180 quoting), or a .jsonl with {"path": …, "caption": …} per line; paths relative to its folder';

interface CaptionRow {
  line: number;
  path: string;
  caption: string;
}

function csvCaptionRows(text: string, file: string): CaptionRow[] {
  return csvPathRows(text, file, 'caption', 'caption', 'captions that contain commas ("a dog, running")');
}

function jsonlCaptionRows(text: string, file: string): CaptionRow[] {
  const fix = 'write one JSON object per line: {"path": "images/0001.jpg", "caption": "A dog runs."}';
  return jsonlObjects(text, file, fix).map(({ line, obj }) => {
    for (const name of ['path', 'caption'] as const) {
      if (typeof obj[name] !== 'string') throw rowError(file, line, `"${name}" is ${obj[name] === undefined ? 'missing' : `not a string (${JSON.stringify(obj[name])})`}`, fix);
    }
    return { line, path: obj.path as string, caption: obj.caption as string };
  });
}

export async function readRetrievalManifest(file: string, split: string): Promise<RetrievalData> {
  const { ext, text } = await readManifestText(file, 'pass the .csv or .jsonl file itself');
  const rows = ext === '.csv' ? csvCaptionRows(text, file) : jsonlCaptionRows(text, file);
  if (rows.length === 0) throw new UsageError('the manifest lists no captions', { file, fix: 'add one row per caption' });
  const dir = path.dirname(file);
  const byPath = new Map<string, ListedImage>();
  for (const r of rows) {
    if (r.path === '') throw rowError(file, r.line, 'the path is empty', 'give every row its image path');
    if (r.caption.trim() === '') throw rowError(file, r.line, `the caption of ${r.path} is empty`, 'give every row its caption text, or delete the row');
    let image = byPath.get(r.path);
    if (!image) byPath.set(r.path, (image = { key: r.path, path: path.resolve(dir, r.path), captions: [] }));
    image.captions.push(r.caption);
  }
  const listed = [...byPath.values()];
  const present = await filesPresent(listed.map((im) => im.path));
  if (!present.some(Boolean)) {
    throw new UsageError(`none of the ${listed.length} images it lists is present (e.g. ${listed[0].path})`, { file, fix: "write image paths relative to the manifest's folder, or absolute" });
  }
  return assemble(listed, present, `retrieval manifest ${path.basename(file)} (the whole file is the split; --split ${split} selects nothing in it)`);
}
