import type { Argv } from 'yargs';
import { DATASETS, type DatasetAdapter } from '../datasets/index.js';
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

export function formatDatasetRows(rows: DatasetRow[]): string {
  return rows
    .map((r) =>
      [
        `${r.id}  (${r.splits.join(', ')}; ${r.metric}; prompts ${r.prompts}${r.templates === null ? '' : `: ${r.classes ?? 'folder'} classes × ${r.templates} templates`}${r.expected ? `; ${r.expected} samples` : ''})`,
        `    ${r.description}`,
        `    ${r.layout}`,
      ].join('\n'),
    )
    .join('\n\n');
}

export const datasetsCommand = {
  command: 'datasets',
  describe: 'List every dataset adapter with its expected layout, splits, class count, metric and template count.',
  builder: (y: Argv) => y.options({ json: { type: 'boolean', default: false, describe: 'Print JSON instead of text.' } }).example('$0 datasets', 'What --dataset accepts and what each expects under --root.'),
  handler: (a: { json: boolean }) => {
    const rows = datasetRows();
    process.stdout.write(a.json ? JSON.stringify(rows) + '\n' : formatDatasetRows(rows) + '\n');
  },
};
