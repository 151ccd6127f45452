/**
 * CLIP_benchmark's Flickr annotation files (`flickr30k_test_karpathy.txt`, `flickr8k_test_karpathy.txt` from
 * mehdidc/retrieval_annotations): a header line, then `<name>.jpg,<caption>` per line. Read as its
 * `datasets/flickr.py` reads them: each line stripped, blank lines skipped, split at `.jpg,` (captions hold
 * commas), the caption kept as it follows; images in order of first appearance, each with its captions in
 * line order. Where CLIP_benchmark would silently drop a caption (no header) or crash (no `.jpg,`, or two), we refuse.
 */
import { UsageError } from '../../errors.js';

/** Python's `str.strip()` set (JavaScript's `trim` differs: it strips U+FEFF and keeps U+001C–U+001F, U+0085). */
const PY_WHITESPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, 'g');
export const pyStrip = (s: string) => s.replace(PY_STRIP, '');

const SEPARATOR = '.jpg,';
const FIX = 'write a header line, then one "<image>.jpg,<caption>" per line, as in mehdidc/retrieval_annotations';

export interface TxtImage {
  name: string;
  captions: string[];
}

/** The images and captions of one annotation file's text; errors name `file:line`. */
export function parseClipBenchmarkTxt(text: string, file: string): TxtImage[] {
  // Python's text mode reads \r\n and \r as \n.
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines[0].includes(SEPARATOR)) {
    throw new UsageError(`expected a header line (e.g. "image,caption"), found a caption line`, { file: `${file}:1`, fix: 'add the header line back: CLIP_benchmark skips the first line' });
  }
  const byName = new Map<string, TxtImage>();
  for (let i = 1; i < lines.length; i++) {
    const line = pyStrip(lines[i]);
    if (line === '') continue;
    const where = `${file}:${i + 1}`;
    const at = line.indexOf(SEPARATOR);
    if (at < 0) throw new UsageError(`expected "<image>.jpg,<caption>", found ${JSON.stringify(line.slice(0, 60))}`, { file: where, fix: FIX });
    if (line.indexOf(SEPARATOR, at + 1) >= 0) throw new UsageError(`"${SEPARATOR}" appears twice, so where the image name ends is ambiguous`, { file: where, fix: FIX });
    const name = line.slice(0, at) + '.jpg';
    const caption = line.slice(at + SEPARATOR.length);
    if (caption.trim() === '') throw new UsageError(`the caption of ${name} is empty`, { file: where, fix: 'give every line its caption text, or delete the line' });
    let image = byName.get(name);
    if (!image) byName.set(name, (image = { name, captions: [] }));
    image.captions.push(caption);
  }
  if (byName.size === 0) throw new UsageError('the annotation file lists no captions', { file, fix: FIX });
  return [...byName.values()];
}
