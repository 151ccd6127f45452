/**
 * What a model folder's name says about the checkpoint. Immich names its model folders
 * `ARCH__pretrained-tag` (`ViT-B-32__openai`, `ViT-B-16-SigLIP__webli`, `nllb-clip-base-siglip__v1`), the two
 * halves of open_clip's `create_model_and_transforms(arch, pretrained=tag)`, which is also how open_clip's and
 * CLIP_benchmark's published result tables key their rows. Other names (`XLM-Roberta-Large-Vit-B-16Plus`, a
 * user's own folder) carry no tag.
 */
import path from 'node:path';

/** A model's name when no `--name` is given: its folder's name, whole. */
export const folderModelName = (dir: string): string => path.basename(path.resolve(dir));

export interface ModelName {
  /** the name shown in reports: the folder's name whole (`ViT-B-32__openai`), or `--name` */
  name: string;
  /** open_clip architecture (`ViT-B-32`), or null where the name has no `__` */
  architecture: string | null;
  /** open_clip pretrained tag (`openai`, `laion2b_s34b_b79k`), or null */
  pretrained: string | null;
}

/**
 * Splits an Immich-style folder name at its first `__`; a name without one (or with an empty half) is kept
 * whole with no architecture or tag.
 * @example parseModelName('ViT-B-32__laion2b_s34b_b79k') // → { name: 'ViT-B-32__laion2b_s34b_b79k', architecture: 'ViT-B-32', pretrained: 'laion2b_s34b_b79k' }
 * @example parseModelName('my-export') // → { name: 'my-export', architecture: null, pretrained: null }
 */
export function parseModelName(folderName: string): ModelName {
  const at = folderName.indexOf('__');
  const architecture = at > 0 ? folderName.slice(0, at) : '';
  const pretrained = at > 0 ? folderName.slice(at + 2) : '';
  if (!architecture || !pretrained) return { name: folderName, architecture: null, pretrained: null };
  return { name: folderName, architecture, pretrained };
}
