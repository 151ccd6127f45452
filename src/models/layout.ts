/**
 * Which files of a model folder make a CLIP checkpoint, and the I/O names to use.
 * Known layouts:
 * - `immich`: `visual/model.onnx` (`image` → `embedding`, older exports `image_embedding`),
 *   `textual/model.onnx` (`text` → `embedding`, older `text_embedding`), `textual/tokenizer.json`,
 *   `visual/preprocess_cfg.json`, `config.json`.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

export type ModelLayout = 'immich';

export interface TowerSpec {
  /** path relative to the model folder */
  file: string;
  /** input names to look for, first match wins */
  inputs: string[];
  outputs: string[];
}

export interface DetectedLayout {
  layout: ModelLayout;
  visual: TowerSpec;
  textual: TowerSpec;
  /** every file the checkpoint uses, relative to its folder: what the fingerprint covers */
  files: string[];
}

const IMMICH_SIDE_FILES = ['textual/tokenizer.json', 'visual/preprocess_cfg.json', 'config.json', 'textual/tokenizer_config.json'];

export async function detectLayout(dir: string): Promise<DetectedLayout> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError('model folder not found', { file: dir, fix: 'pass --model with the folder of an ONNX CLIP export' });
  }
  const has = (rel: string) => existsSync(path.join(dir, rel));
  if (has('visual/model.onnx') || has('textual/model.onnx')) {
    for (const rel of ['visual/model.onnx', 'textual/model.onnx']) {
      if (!has(rel)) throw new UsageError(`Immich layout without ${rel}`, { file: path.join(dir, rel), fix: 'copy the complete export (visual/ and textual/ folders)' });
    }
    return {
      layout: 'immich',
      visual: { file: 'visual/model.onnx', inputs: ['image'], outputs: ['embedding', 'image_embedding'] },
      textual: { file: 'textual/model.onnx', inputs: ['text'], outputs: ['embedding', 'text_embedding'] },
      files: ['visual/model.onnx', 'textual/model.onnx', ...IMMICH_SIDE_FILES.filter(has)],
    };
  }
  throw new UsageError('no known CLIP export layout in this folder (expected visual/model.onnx and textual/model.onnx)', {
    file: dir,
    fix: 'point --model at an Immich-style export folder',
  });
}
