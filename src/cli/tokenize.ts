import { createInterface } from 'node:readline';
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { loadTokenizerFile, loadTokenizerFromDir, type ClipTokenizer } from '../models/tokenizer/index.js';
import { OPTIONS } from './options.js';

/** A tokenizer from a model folder, or from one file of any format checkpoints ship. */
export function tokenizerFrom(a: { model?: string; tokenizer?: string }): ClipTokenizer {
  return a.model ? loadTokenizerFromDir(a.model) : loadTokenizerFile(a.tokenizer!);
}

export const tokenizeCommand = {
  command: 'tokenize',
  describe: 'Print CLIP token ids, one JSON array per input line, <|startoftext|> … <|endoftext|> included, padding stripped.',
  builder: (y: Argv) =>
    y
      .options({
        model: OPTIONS.model,
        tokenizer: { type: 'string', describe: 'A tokenizer file instead of a model: tokenizer.json, vocab.json (+ merges.txt beside it) or bpe_simple_vocab_16e6.txt.gz.' },
        text: { type: 'string', array: true, describe: 'Text to tokenize (repeatable); without it, lines are read from stdin.' },
        'no-truncate': { type: 'boolean', default: false, describe: 'Fail on text longer than the context instead of truncating it as CLIP does.' },
      })
      .conflicts('model', 'tokenizer')
      .check((a) => {
        if (!a.model && !a.tokenizer) throw new UsageError('pass --model DIR or --tokenizer FILE');
        return true;
      })
      .example('$0 tokenize --model fixtures/demo/toy-clip --text "a photo of a red thing."', 'Ids from the demo model\'s tokenizer.')
      .example('cat prompts.txt | $0 tokenize --tokenizer tokenizer.json', 'One line of ids per line of input.'),
  handler: async (a: { model?: string; tokenizer?: string; text?: string[]; 'no-truncate': boolean }) => {
    const tok = tokenizerFrom(a);
    const line = (t: string) => JSON.stringify(tok.tokenize(t, { truncate: !a['no-truncate'] })) + '\n';
    if (a.text) {
      for (const t of a.text) process.stdout.write(line(t));
      return;
    }
    for await (const t of createInterface({ input: process.stdin, crlfDelay: Infinity })) process.stdout.write(line(t));
  },
};
