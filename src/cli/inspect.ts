import path from 'node:path';
import type { Argv } from 'yargs';
import { loadCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import type { TensorSignature } from '../models/onnx-session.js';
import { preprocessSourceLines, type PreprocessConvention } from '../models/preprocess/index.js';
import { describeLink } from '../models/scoring-link.js';
import { OPTIONS } from './options.js';

/**
 * How text rows are built and fed, in one line:
 * `siglip: Unigram, X </s>, pad to 64 with 1 (</s>), no mask fed`.
 */
export function feedingRule(c: Pick<Checkpoint, 'textTokenizer' | 'textual' | 'cutsTextToLongest'>): string {
  const t = c.textTokenizer;
  return [
    `${t.family}: ${t.modelType}`,
    t.template,
    `pad to ${t.contextLength} with ${t.padId} (${t.padToken})`,
    ...(c.cutsTextToLongest ? ['cut after the longest row of each batch'] : []),
    c.textual.mask ? `${c.textual.mask.name} fed` : 'no mask fed',
  ].join(', ');
}

/** Everything `inspect` reports about a checkpoint, as plain data. */
export function describeCheckpoint(c: Checkpoint) {
  const sig = (s: TensorSignature) => ({ name: s.name, type: s.type, shape: s.shape });
  const tower = (t: Checkpoint['visual']) => ({
    file: t.file,
    inputs: t.inputs.map(sig),
    outputs: t.outputs.map(sig),
    uses: { input: t.input.name, output: t.output.name, ...(t.mask ? { attentionMask: t.mask.name } : {}) },
    batch: t.batch ?? 'dynamic',
  });
  return {
    model: c.name,
    dir: c.dir,
    layout: c.layout,
    variant: c.variant,
    variants: c.variants,
    assumptions: c.assumptions,
    fingerprint: c.fingerprint,
    files: c.files,
    embedDim: c.embedDim,
    visual: tower(c.visual),
    textual: tower(c.textual),
    family: c.family,
    tokenizer: {
      file: path.relative(c.dir, c.textTokenizer.source).split(path.sep).join('/') || '.',
      modelType: c.textTokenizer.modelType,
      contextLength: c.textTokenizer.contextLength,
      template: c.textTokenizer.template,
      padId: c.textTokenizer.padId,
      padToken: c.textTokenizer.padToken,
      maxId: c.textTokenizer.maxId,
      clean: c.textTokenizer.clean,
      cutToLongest: c.cutsTextToLongest,
      attentionMaskFed: c.textual.mask !== undefined,
      feeding: feedingRule(c),
    },
    preprocess: c.preprocess,
    preprocessSources: c.preprocessSources,
    scoring: c.scoring,
    session: c.sessionOptions,
  };
}

export function formatDescription(d: ReturnType<typeof describeCheckpoint>): string {
  const io = (xs: { name: string; type: string; shape: (number | string)[] }[]) => xs.map((s) => `${s.name} ${s.type}[${s.shape.join(', ')}]`).join('; ');
  const tower = (label: string, t: ReturnType<typeof describeCheckpoint>['visual']) =>
    [`${label.padEnd(12)} ${t.file}`, `${''.padEnd(12)} in:  ${io(t.inputs)}`, `${''.padEnd(12)} out: ${io(t.outputs)}`, `${''.padEnd(12)} uses ${t.uses.input} → ${t.uses.output}${'attentionMask' in t.uses ? ` (mask ${t.uses.attentionMask})` : ''}, batch ${t.batch}`];
  const p = d.preprocess;
  return [
    `model        ${d.model}  (${d.dir})`,
    `layout       ${d.layout}, variant ${d.variant} (available: ${d.variants.join(', ')})`,
    ...d.assumptions.map((a) => `assumed      ${a}`),
    `fingerprint  ${d.fingerprint}`,
    `files        ${d.files.join(', ')}`,
    `embedding    ${d.embedDim} dimensions`,
    ...tower('image tower', d.visual),
    ...tower('text tower', d.textual),
    `family       ${d.family}`,
    `tokenizer    ${d.tokenizer.file}: ${d.tokenizer.modelType}, context ${d.tokenizer.contextLength}, ids up to ${d.tokenizer.maxId}`,
    `text rows    ${d.tokenizer.feeding}`,
    `cleaning     ${d.tokenizer.clean}${d.family === 'clip' ? ' (CLIP cleans in its own tokenizer: ftfy, HTML unescape, whitespace, lower case)' : ''}`,
    `preprocess   ${p.size} px, ${p.interpolation}, resize ${p.resizeMode}${p.resizeSize ? ` to ${p.resizeSize}` : ''}, crop offsets ${p.cropRounding}, mean [${p.mean.join(', ')}], std [${p.std.join(', ')}]${p.valueScale !== undefined ? `, pixel values × ${p.valueScale} (not / 255)` : ''}`,
    ...preprocessSourceLines(d.preprocess.interpolation, d.preprocessSources).map((l) => `${''.padEnd(12)} ${l}`),
    `scoring      ${describeLink(d.scoring)}`,
    `session      ${d.session.executionProvider}, graph optimisation ${d.session.graphOptimization}, intra-op threads ${d.session.intraOpThreads || 'default'}`,
  ].join('\n');
}

export const inspectCommand = {
  command: 'inspect',
  describe: "Describe a checkpoint: detected layout and variant, files, the graphs' inputs and outputs, embedding size, tokenizer and preprocessing settings, fingerprint.",
  builder: (y: Argv) =>
    y
      .options({
        model: { ...OPTIONS.model, demandOption: true },
        variant: OPTIONS.variant,
        provider: OPTIONS.provider,
        convention: OPTIONS.convention,
        'logit-scale': OPTIONS['logit-scale'],
        'logit-bias': OPTIONS['logit-bias'],
        tokenizer: OPTIONS.tokenizer,
        language: OPTIONS.language,
        json: OPTIONS.json,
      })
      .example('$0 inspect --model fixtures/demo/toy-clip', 'What the demo model is made of.')
      .example('$0 inspect --model ~/models/clip-vit-base-patch32 --variant fp16 --json', 'A Hugging Face export\'s fp16 variant, as JSON.'),
  handler: async (a: { model: string; variant?: string; provider: 'cpu' | 'cuda'; convention: PreprocessConvention; 'logit-scale'?: number; 'logit-bias'?: number; tokenizer?: string; language?: string; json: boolean }) => {
    const scoring = { logitScale: a['logit-scale'], logitBias: a['logit-bias'] };
    const c = await loadCheckpoint(a.model, { variant: a.variant, session: { executionProvider: a.provider }, preprocessConvention: a.convention, scoring, tokenizer: a.tokenizer, language: a.language });
    try {
      const d = describeCheckpoint(c);
      process.stdout.write(a.json ? JSON.stringify(d) + '\n' : formatDescription(d) + '\n');
    } finally {
      await c.release();
    }
  },
};
