import type { Argv } from 'yargs';
import { DATASETS, type DatasetAdapter } from '../datasets/index.js';
import { RETRIEVAL_DATASETS, type RetrievalAdapter } from '../datasets/retrieval/index.js';
import { RETRIEVAL_HEADLINE } from '../eval/retrieval-metrics.js';
import { loadPromptSet } from '../prompts/prompt-set.js';

export interface DatasetRow {
  id: string;
  splits: string[];
  metric: string;
  prompts: string;
  classes: number | null;
  templates: number | null;
  expected: string;
  layout: string;
  description: string;
}

/** One row per registered adapter: what it reads, how it is scored, and which prompts it uses. */
export function datasetRows(adapters: readonly DatasetAdapter[] = Object.values(DATASETS)): DatasetRow[] {
  return adapters.map((d) => {
    const prompts = typeof d.defaultPrompts === 'string' ? d.defaultPrompts : 'single';
    const set = loadPromptSet(prompts); // for a chosen set, the fallback's counts (classes come from the data)
    return {
      id: d.id,
      splits: [...d.splits],
      metric: d.metric ?? 'top1',
      prompts: typeof d.defaultPrompts === 'function' ? (d.defaultPromptsNote ?? prompts) : prompts,
      classes: set.classes && typeof d.defaultPrompts === 'string' ? Object.keys(set.classes).length : null,
      templates: typeof d.defaultPrompts === 'string' ? set.templates.length : null,
      expected: Object.entries(d.expectedCount ?? {}).map(([s, n]) => `${s}: ${n}`).join(', '),
      layout: d.layout,
      description: d.description,
    };
  });
}

/** One row per retrieval dataset: its splits, metrics and layouts. */
export function retrievalDatasetRows(adapters: readonly RetrievalAdapter[] = Object.values(RETRIEVAL_DATASETS)): DatasetRow[] {
  return adapters.map((d) => ({
    id: d.id,
    splits: [...d.splits],
    metric: `retrieval: ${RETRIEVAL_HEADLINE}, recall@1/5/10 both ways`,
    prompts: d.languages ? `captions in --language ${d.languages.join(', ')}` : 'captions',
    classes: null,
    templates: null,
    expected: Object.entries(d.expectedCount ?? {}).map(([s, n]) => `${s}: ${n!.images} images, ${n!.captions} captions`).join('; '),
    layout: d.layout,
    description: d.description,
  }));
}

export function formatDatasetRows(rows: DatasetRow[]): string {
  return rows
    .map((r) =>
      [
        `${r.id}  (${r.splits.join(', ')}; ${r.metric}; prompts ${r.prompts}${r.templates === null ? '' : `: ${r.classes ?? 'folder'} classes × ${r.templates} templates`}${r.expected ? `; ${r.expected}${r.prompts.startsWith('captions') ? '' : ' samples'}` : ''})`,
        `    ${r.description}`,
        `    ${r.layout}`,
      ].join('\n'),
    )
    .join('\n\n');
}

export const datasetsCommand = {
  command: 'datasets',
  describe: 'List every dataset adapter with its expected layout, splits, class count, metric and template count, then the retrieval datasets (flickr30k, flickr8k, mscoco; crossmodal3600, xtd10, multilingual_mscoco with their languages) with their layouts.',
  builder: (y: Argv) => y.options({ json: { type: 'boolean', default: false, describe: 'Print JSON instead of text.' } }).example('$0 datasets', 'What --dataset accepts and what each expects under --root.'),
  handler: (a: { json: boolean }) => {
    const rows = [...datasetRows(), ...retrievalDatasetRows()];
    process.stdout.write(a.json ? JSON.stringify(rows) + '\n' : formatDatasetRows(rows) + '\n');
  },
};
