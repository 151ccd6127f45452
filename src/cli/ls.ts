import type { Argv } from 'yargs';
import { datasetRows, retrievalDatasetRows } from './datasets.js';
import { listPromptSets, loadPromptSet } from '../prompts/prompt-set.js';

export const lsCommand = {
  command: 'ls <what>',
  describe: 'List the datasets or prompt sets clip-bench knows, one line each (`clip-bench datasets` gives the full dataset table).',
  builder: (y: Argv) =>
    y
      .positional('what', { choices: ['datasets', 'prompts'] as const, describe: 'What to list.' })
      .options({ json: { type: 'boolean', default: false, describe: 'Print JSON instead of text.' } })
      .example('$0 ls datasets', 'Dataset adapters and their splits.'),
  handler: (a: { what: 'datasets' | 'prompts'; json: boolean }) => {
    const rows =
      a.what === 'datasets'
        ? [...datasetRows(), ...retrievalDatasetRows()].map((d) => ({ id: d.id, splits: d.splits.join(','), metric: d.metric, description: d.description }))
        : listPromptSets().map((id) => {
            const p = loadPromptSet(id);
            return { id, templates: String(p.templates.length), classes: p.classes ? String(Object.keys(p.classes).length) : 'from dataset', description: p.description ?? '' };
          });
    if (a.json) {
      process.stdout.write(JSON.stringify(rows) + '\n');
      return;
    }
    for (const r of rows) process.stdout.write(`${r.id.padEnd(14)} ${Object.entries(r).filter(([k]) => k !== 'id' && k !== 'description').map(([k, v]) => `${k}=${v}`).join(' ').padEnd(32)} ${r.description}\n`);
  },
};
