/**
 * Options shared by several subcommands, as a data table: each with a full-sentence description.
 * Subcommands pick the ones they use.
 */
import os from 'node:os';
import { DEFAULT_DB } from '../store/db.js';

export const OPTIONS = {
  model: { type: 'string', describe: 'Folder of an ONNX CLIP export: Immich (visual/, textual/), Hugging Face (onnx/*.onnx) or described by a clip-bench.json manifest.' },
  name: { type: 'string', describe: "The model's name in the results DB and reports; default the model folder's name, with Immich's ARCH__pretrained-tag kept whole (ViT-B-32__openai: architecture ViT-B-32, pretrained tag openai). Not part of the run's identity: a run made under another name is still found, continued or reused." },
  dataset: { type: 'string', describe: 'Dataset adapter to read --root with; `clip-bench ls datasets` lists them.' },
  root: { type: 'string', describe: 'Folder that holds the dataset in its native layout.' },
  split: { type: 'string', describe: 'Dataset split to evaluate; defaults to the adapter\'s first split.' },
  prompts: { type: 'string', describe: 'Prompt set id from configs/prompts (`clip-bench ls prompts`) or a file of your own written as a path (./x, /x, x.json, x.txt). A set of templates only (single, classname) uses the dataset\'s curated class names.' },
  language: {
    type: 'string',
    describe:
      "Language of the text side (fr, zh, ar, …; part of the run's identity). Classification: class names and templates in that language, from CLIP_benchmark's <lang>_classnames.json + <lang>_zeroshot_classification_templates.json in --prompts DIR (default: configs/languages or $CLIP_BENCH_LANGUAGES), Babel-ImageNet with --prompts babel-imagenet, or your own --prompts FILE written in it. Multilingual retrieval datasets: the captions' language. NLLB checkpoints need it.",
  },
  db: { type: 'string', default: DEFAULT_DB, describe: 'SQLite file that stores runs and predictions.' },
  'batch-size': { type: 'number', default: 32, describe: 'Images encoded per onnxruntime call.' },
  limit: { type: 'number', describe: 'Score only this many samples, spread evenly over the split (for quick checks).' },
  workers: { type: 'number', default: Math.max(1, Math.min(4, os.availableParallelism())), describe: 'Worker threads that decode and preprocess images.' },
  threads: { type: 'number', default: 0, describe: 'onnxruntime intra-op threads; 0 lets onnxruntime use one per core.' },
  variant: { type: 'string', describe: 'Precision variant of the checkpoint to load (fp32, fp16, quantized, int8, uint8, q4, bnb4, q4f16); default fp32, else the only one there. For a folder of flat ONNX pairs (ailia, onnx_clip, usls), the pair\'s name, e.g. ViT-B32; required when there are several. `clip-bench inspect` lists them.' },
  provider: { choices: ['cpu', 'cuda'] as const, default: 'cpu' as const, describe: 'onnxruntime execution provider; cuda needs an install with CUDA libraries (ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci).' },
  'graph-optimization': { choices: ['disabled', 'basic', 'extended', 'all'] as const, default: 'all' as const, describe: 'onnxruntime graph optimisation level.' },
  convention: {
    choices: ['reference', 'exporter', 'immich'] as const,
    default: 'reference' as const,
    describe: "Where an exporter's preprocessing differs from the reference (Hugging Face: floor crop offsets, RGB conversion before resizing), follow the reference (default) or the exporter; immich reproduces Immich's own ML runtime on its visual/preprocess_cfg.json (RGB first, int() long side and crop offsets, its float32 normalisation).",
  },
  'logit-scale': { type: 'number', describe: "The checkpoint's trained logit_scale, in log space as open_clip and transformers store it (probabilities use exp(logit_scale)·cos). Needed for calibrated SigLIP confidences when the export does not state it; with a CLIP checkpoint it sets the softmax temperature instead of 100." },
  'logit-bias': { type: 'number', describe: "The checkpoint's trained logit_bias (SigLIP: sigmoid(exp(logit_scale)·cos + logit_bias)); give it with --logit-scale." },
  json: { type: 'boolean', default: false, describe: 'Print one JSON object (machine-readable) instead of text.' },
  quiet: { type: 'boolean', default: false, describe: 'No progress output on stderr.' },
  cache: { type: 'boolean', default: true, describe: 'Reuse and store text and image embeddings in the results DB; --no-cache encodes everything afresh and stores nothing.' },
  resume: { type: 'number', describe: 'Continue this unfinished run (same arguments as it was started with). Without it, an unfinished run with the same identity is continued automatically.' },
  shard: { type: 'string', describe: 'Evaluate only shard i of n ("i/n": samples whose index mod n is i); merge the shard DBs with `clip-bench merge`.' },
  out: { type: 'string', describe: 'Write the output to this file (atomically) instead of stdout.' },
  'reference-file': {
    type: 'string',
    describe:
      "A published result table to put beside ours, as downloaded: open_clip's docs/openclip_results.csv, openclip_classification_results.csv or openclip_retrieval_results.csv, or CLIP_benchmark's benchmark/benchmark.csv. Alone, each model is compared with its own row, found from its folder name ARCH__pretrained-tag (ViT-B-32__openai → ViT-B-32/openai); with --reference openclip:ARCH/tag, every model with that row. Shows the published value, Δ only where configs/references/published-datasets.json calls the protocols comparable, and each number's source and protocol note.",
  },
  'recall-k': { type: 'string', describe: 'Retrieval datasets: recall cut-offs, comma-separated (default 1,5,10, as CLIP_benchmark); 1 must be among them (mean_recall@1 is the headline).' },
  'caption-prefix': { type: 'string', describe: 'Retrieval datasets: text put before every caption before it is encoded. The paper uses "a photo of " (+1–2 points R@1); none by default, as CLIP_benchmark.' },
  tokenizer: { type: 'string', describe: 'A tokenizer file or folder to use instead of the model\'s own (tokenizer.json with its tokenizer_config.json beside it, vocab.json + merges.txt, bpe_simple_vocab_16e6.txt.gz); part of the model\'s fingerprint.' },
  'exclude-failures': { type: 'boolean', default: false, describe: 'Score only the samples that decoded. By default, as in the paper, a sample that fails to decode counts as wrong over the whole split.' },
} as const;

/** How a run is executed and recorded: the options `eval`, `suite` and `ablation` share. */
export const RUN_OPTIONS = {
  db: OPTIONS.db,
  'batch-size': OPTIONS['batch-size'],
  limit: OPTIONS.limit,
  workers: OPTIONS.workers,
  threads: OPTIONS.threads,
  variant: OPTIONS.variant,
  provider: OPTIONS.provider,
  'graph-optimization': OPTIONS['graph-optimization'],
  convention: OPTIONS.convention,
  language: OPTIONS.language,
  'logit-scale': OPTIONS['logit-scale'],
  'logit-bias': OPTIONS['logit-bias'],
  cache: OPTIONS.cache,
  quiet: OPTIONS.quiet,
  'exclude-failures': OPTIONS['exclude-failures'],
  tokenizer: OPTIONS.tokenizer,
} as const;
