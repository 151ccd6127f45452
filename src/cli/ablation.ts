import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import type { EvalResult } from '../eval/zero-shot.js';
import { ablationMarkdown, ablationText, buildAblation } from '../report/ablation.js';
import { openDb } from '../store/db.js';
import { getRun } from '../store/runs.js';
import { checkEvalArgs, evalAndReport, type EvalArgs } from './eval.js';
import { OPTIONS, RUN_OPTIONS } from './options.js';
import { emit } from './output.js';

export interface AblationArgs extends Omit<EvalArgs, 'reference' | 'resume' | 'shard'> {
  format: 'text' | 'md';
  out?: string;
}

/** `imagenet,imagenet-7,single` → the prompt sets in order, blanks dropped. */
export function parsePromptList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Checks across flags, pure so it can be tested without running anything. Returns the problem or null. */
export function checkAblationArgs(a: Partial<AblationArgs>): string | null {
  const evalProblem = checkEvalArgs(a);
  if (evalProblem) return evalProblem;
  const sets = parsePromptList(a.prompts);
  if (sets.length < 2) return `--prompts needs at least two prompt sets separated by commas, got "${a.prompts ?? ''}"`;
  const dup = sets.find((s, i) => sets.indexOf(s) !== i);
  if (dup) return `--prompts names "${dup}" twice`;
  if (a.json && a.format === 'md') return 'pass --json or --format md, not both';
  return null;
}

export const ablationCommand = {
  command: 'ablation',
  describe: 'Score one model on one dataset with several prompt sets and tabulate them (templates, hash, headline, top-1, top-5, Δ vs the first); images are encoded once and read from the cache after.',
  builder: (y: Argv) =>
    y
      .options({
        model: { ...OPTIONS.model, demandOption: true },
        dataset: { ...OPTIONS.dataset, demandOption: true },
        root: { ...OPTIONS.root, demandOption: true },
        prompts: {
          type: 'string',
          demandOption: true,
          describe: 'Prompt sets to compare, comma-separated: ids from configs/prompts (e.g. imagenet,imagenet-7,single,classname) and/or JSON files of your own. The first is the baseline of Δ.',
        },
        split: OPTIONS.split,
        ...RUN_OPTIONS,
        format: { choices: ['text', 'md'] as const, default: 'text' as const, describe: 'Aligned text for the terminal or a Markdown table.' },
        json: OPTIONS.json,
        out: OPTIONS.out,
      })
      .check((a) => {
        const problem = checkAblationArgs(a as unknown as AblationArgs);
        if (problem) throw new UsageError(problem);
        return true;
      })
      .example('$0 ablation --model ~/models/ViT-B-32__openai --dataset imagenet --root ~/data/imagenet --prompts imagenet,imagenet-7,single,classname', "The paper's prompt-engineering table for your checkpoint.")
      .example('$0 ablation --model fixtures/demo/toy-clip --dataset imagefolder --root fixtures/demo/colours --prompts colours,single,classname --format md', 'On the demo, as Markdown.'),
  handler: async (a: AblationArgs) => {
    const results: EvalResult[] = [];
    // One after the other: the first set encodes the images, the others find them in the cache.
    for (const prompts of parsePromptList(a.prompts)) results.push(await evalAndReport({ ...a, prompts, json: false }));
    const db = openDb(a.db, { readonly: true });
    let ablation;
    try {
      ablation = buildAblation(
        results.map((r) => getRun(db, r.runId, a.db)),
        results.map((r) => r.cache),
      );
    } finally {
      db.close();
    }
    emit(a.json ? JSON.stringify(ablation, null, 2) + '\n' : a.format === 'md' ? ablationMarkdown(ablation) : ablationText(ablation), a.out);
  },
};
