/** The fixed interface every dataset adapter implements. */

export interface Sample {
  /** stable identity of the sample within its dataset, e.g. its path relative to the root */
  key: string;
  /** file to decode */
  path: string;
  /** class index into `classIds` */
  label: number;
}

export interface DatasetAdapter {
  id: string;
  description: string;
  splits: readonly string[];
  /** the class ids in label order (folder names, WordNet ids, …) */
  classIds(root: string, split: string): Promise<string[]>;
  /** every sample of a split, in a deterministic order */
  samples(root: string, split: string): AsyncIterable<Sample>;
  /** prompt set used when the user names none */
  defaultPrompts?: string;
}
