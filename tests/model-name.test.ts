import { describe, expect, it } from 'vitest';
import { parseModelName } from '../src/models/model-name.js';

describe('parseModelName: Immich ARCH__pretrained folder names', () => {
  it.each([
    ['ViT-B-32__openai', 'ViT-B-32', 'openai'],
    ['ViT-B-32__laion2b_s34b_b79k', 'ViT-B-32', 'laion2b_s34b_b79k'],
    ['ViT-B-16-SigLIP__webli', 'ViT-B-16-SigLIP', 'webli'],
    ['nllb-clip-base-siglip__v1', 'nllb-clip-base-siglip', 'v1'],
    // only the first __ splits: a tag may hold one
    ['ViT-L-14__datacomp__xl', 'ViT-L-14', 'datacomp__xl'],
  ])('%s → %s / %s', (folder, architecture, pretrained) => {
    expect(parseModelName(folder)).toEqual({ name: folder, architecture, pretrained });
  });

  it.each(['XLM-Roberta-Large-Vit-B-16Plus', 'my_export', '__openai', 'ViT-B-32__'])('%s has no architecture or tag', (folder) => {
    expect(parseModelName(folder)).toEqual({ name: folder, architecture: null, pretrained: null });
  });
});
