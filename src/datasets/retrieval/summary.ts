/**
 * What a loaded split holds, in words, for the run's output: the counts, how many captions each image has
 * (COCO's 6- and 7-caption images said, not hidden), and how the counts compare with the official split.
 */
import type { RetrievalAdapter, RetrievalData } from './types.js';

const n = (x: number) => x.toLocaleString('en-US');

/**
 * @example describeRetrievalData(coco5k) // "5,000 images, 25,010 captions (4,990 images with 5, 9 with 6, 1 with 7)"
 */
export function describeRetrievalData(d: Pick<RetrievalData, 'images' | 'captions' | 'missingImages'>): string {
  const perImage = new Array<number>(d.images.length).fill(0);
  for (const c of d.captions) perImage[c.image]++;
  const histogram = new Map<number, number>();
  for (const k of perImage) histogram.set(k, (histogram.get(k) ?? 0) + 1);
  const parts = [...histogram].sort(([a], [b]) => a - b).map(([k, images], i) => `${n(images)}${i === 0 ? ` image${images === 1 ? '' : 's'}` : ''} with ${k}`);
  const missing = d.missingImages ? `; ${n(d.missingImages)} listed image${d.missingImages === 1 ? ' is' : 's are'} missing` : '';
  return `${n(d.images.length)} images, ${n(d.captions.length)} captions (${parts.join(', ')})${missing}`;
}

/** A note where the split's counts differ from the official ones (undefined where they match or none are fixed). */
export function countMismatch(adapter: Pick<RetrievalAdapter, 'id' | 'expectedCount'>, split: string, d: Pick<RetrievalData, 'images' | 'captions'>): string | undefined {
  const expected = adapter.expectedCount?.[split];
  if (!expected || (expected.images === d.images.length && expected.captions === d.captions.length)) return undefined;
  return `${adapter.id} ${split} has ${n(expected.images)} images and ${n(expected.captions)} captions officially; found ${n(d.images.length)} and ${n(d.captions.length)}`;
}
