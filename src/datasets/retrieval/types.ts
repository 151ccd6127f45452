/** The fixed interface of a retrieval dataset (image ↔ caption), beside classification's `DatasetAdapter`. */
import type { Sample } from '../types.js';

/** An image to embed: the same shape as a classification sample, without a label, so the image cache serves both tasks. */
export type RetrievalImage = Pick<Sample, 'key' | 'path' | 'load'>;

export interface RetrievalCaption {
  /** the caption as the annotation file writes it (no trimming, no prefix) */
  text: string;
  /** index into `RetrievalData.images` of the image it describes */
  image: number;
}

/** One split as read from disk. */
export interface RetrievalData {
  /** every image of the split, in the layout's deterministic order */
  images: RetrievalImage[];
  /** every caption, grouped by image in image order (as CLIP_benchmark flattens them); an image may have any number ≥ 1 */
  captions: RetrievalCaption[];
  /** which layout was read and from where, e.g. "Karpathy dataset_flickr30k.json, images in flickr30k-images/" */
  layoutFound: string;
  /** images listed whose file is absent (the engine records them as failed samples; their captions count as misses) */
  missingImages: number;
}

export interface RetrievalAdapter {
  id: string;
  description: string;
  /** `test` first: the default */
  splits: readonly string[];
  /** the layouts accepted under --root, for the README, `clip-bench datasets` and error messages */
  layout: string;
  /** images and captions per split in the official distribution, where fixed */
  expectedCount?: Partial<Record<string, { images: number; captions: number }>>;
  /**
   * A multilingual dataset's caption languages as CLIP_benchmark lists them (for `clip-bench datasets` and the
   * README; which ones a root holds is read from its files). Absent: English captions only, and no `--language`.
   */
  languages?: readonly string[];
  /** the split's images and captions (in `language`, for a multilingual dataset), from whichever layout is found under `root` */
  load(root: string, split: string, language?: string): Promise<RetrievalData>;
}
