/** The fixed interface every dataset adapter implements. */
import type { MetricId } from '../eval/metric-ids.js';
import type { RawImage } from '../models/preprocess/image.js';

export interface Sample {
  /** stable identity of the sample within its dataset, e.g. its path relative to the root */
  key: string;
  /** file to decode */
  path: string;
  /** class index into `classIds` (for multi-label samples: the first present class, for display only) */
  label: number;
  /**
   * For samples stored inside a container (a CIFAR batch, a tar shard, an HDF5 file, a CSV of pixels):
   * reads this one image, as encoded bytes or as decoded pixels in the mode PIL would hold them
   * (`Image.fromarray`). `path` is then the container file, whose size and mtime key the image cache.
   */
  load?: () => Promise<Uint8Array | RawImage>;
  /** multi-label datasets (VOC2007): per class 1 = present, 0 = absent, 255 = difficult (ignored by 11-point AP) */
  targets?: Uint8Array;
}

/**
 * When the classifier's classes are not the dataset's own: ImageNet-R/A score with the 200 ImageNet
 * classes they contain; ObjectNet scores each of its classes by the max over its mapped ImageNet classes.
 */
export interface ClassifierPlan {
  /** class ids of the prompt set to build the classifier from (e.g. ImageNet WordNet ids) */
  promptClassIds: string[];
  /** for each dataset class (label order): indices into `promptClassIds` whose max logit is its logit */
  groups: number[][];
  /** how the scores were formed, stored with the run (e.g. "imagenet-200-subset", "objectnet-max-over-mapped") */
  description: string;
}

export interface DatasetAdapter {
  id: string;
  description: string;
  splits: readonly string[];
  /** the expected tree under --root, for the README, `clip-bench datasets` and error messages */
  layout: string;
  /** samples per split in the official distribution, where fixed */
  expectedCount?: Partial<Record<string, number>>;
  /** the class ids in label order (folder names, WordNet ids, …) */
  classIds(root: string, split: string): Promise<string[]>;
  /** every sample of a split, in a deterministic order */
  samples(root: string, split: string): AsyncIterable<Sample>;
  /** prompt set used when the user names none (or a choice made from the class ids, or from files under the resolved root) */
  defaultPrompts?: string | ((classIds: readonly string[], root: string) => string);
  /** how a function-valued `defaultPrompts` chooses, for `clip-bench datasets` (e.g. "single; imagenet for WordNet-id folders") */
  defaultPromptsNote?: string;
  /** the paper's headline metric for this dataset (default top1) */
  metric?: MetricId;
  /** build the classifier over other classes than `classIds` and map the logits back */
  classifierPlan?(root: string, split: string): Promise<ClassifierPlan | undefined>;
  /** samples carry `targets` and are scored with every class's logit kept (11-point mAP) */
  multiLabel?: boolean;
  /** preprocessing changes the benchmark prescribes (e.g. ObjectNet's 2-pixel border crop) */
  preprocess?: { trimBorder?: number };
}
