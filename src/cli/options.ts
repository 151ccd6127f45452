/**
 * Options shared by several subcommands, as a data table: each with a full-sentence description.
 * Subcommands pick the ones they use.
 */
import os from 'node:os';
import { DEFAULT_DB } from '../store/db.js';

export const OPTIONS = {
  model: { type: 'string', describe: 'Folder of an ONNX CLIP export (Immich layout: visual/model.onnx, textual/model.onnx).' },
  dataset: { type: 'string', describe: 'Dataset adapter to read --root with; `clip-bench ls datasets` lists them.' },
  root: { type: 'string', describe: 'Folder that holds the dataset in its native layout.' },
  split: { type: 'string', describe: 'Dataset split to evaluate; defaults to the adapter\'s first split.' },
  prompts: { type: 'string', describe: 'Prompt set id from configs/prompts (`clip-bench ls prompts`) or a JSON file of your own.' },
  db: { type: 'string', default: DEFAULT_DB, describe: 'SQLite file that stores runs and predictions.' },
  'batch-size': { type: 'number', default: 32, describe: 'Images encoded per onnxruntime call.' },
  limit: { type: 'number', describe: 'Score only this many samples, spread evenly over the split (for quick checks).' },
  workers: { type: 'number', default: Math.max(1, Math.min(4, os.availableParallelism())), describe: 'Worker threads that decode and preprocess images.' },
  threads: { type: 'number', default: 0, describe: 'onnxruntime intra-op threads; 0 lets onnxruntime use one per core.' },
  json: { type: 'boolean', default: false, describe: 'Print one JSON object (machine-readable) instead of text.' },
  out: { type: 'string', describe: 'Write the output to this file (atomically) instead of stdout.' },
} as const;
