import { createInterface } from 'node:readline';
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { loadFedTokenizer, loadTokenizerFile, loadTokenizerFromDir, type ClipTokenizer, type FedTokenizer } from '../models/tokenizer/index.js';
import { OPTIONS } from './options.js';

/** A tokenizer from a model folder, or from one file of any format checkpoints ship. */
export function tokenizerFrom(a: { model?: string; tokenizer?: string }): ClipTokenizer {
  return a.model ? loadTokenizerFromDir(a.model) : loadTokenizerFile(a.tokenizer!);
}

interface TokenizeArgs {
  model?: string;
  tokenizer?: string;
  text?: string[];
  'no-truncate': boolean;
  'as-fed': boolean;
  language?: string;
}

/** Cross-flag rules that need the loaded tokenizer (pure, so that they can be tested). */
export function checkTokenizeFlags(a: Pick<TokenizeArgs, 'no-truncate' | 'as-fed' | 'language'>, fed: Pick<FedTokenizer, 'family' | 'source'>): void {
  if (a['no-truncate'] && (a['as-fed'] || fed.family !== 'clip')) {
    throw new UsageError('--no-truncate applies to CLIP ids without --as-fed; the row as fed is always cut to the context length', { file: fed.source, fix: 'drop --no-truncate' });
  }
  if (a.language !== undefined && fed.family !== 'nllb') {
    throw new UsageError(`--language sets the NLLB language-code prefix, and this is a ${fed.family} tokenizer, which has none`, { file: fed.source, fix: 'drop --language' });
  }
}

/** The line printed for one text. */
function lineFor(a: TokenizeArgs, fed: FedTokenizer, clip: () => ClipTokenizer): (text: string) => string {
  if (a['as-fed']) return (t) => JSON.stringify(fed.row(t)) + '\n';
  if (fed.family === 'clip') {
    const tok = clip();
    return (t) => JSON.stringify(tok.tokenize(t, { truncate: !a['no-truncate'] })) + '\n';
  }
  return (t) => {
    const row = fed.row(t);
    return JSON.stringify(row.ids.slice(0, row.attention_mask.reduce((s, m) => s + m, 0))) + '\n';
  };
}

export const tokenizeCommand = {
  command: 'tokenize',
  describe: 'Print token ids, one JSON array per input line, special tokens included, padding stripped; with --as-fed, one {"ids", "attention_mask"} object per line, the row exactly as the text model is fed.',
  builder: (y: Argv) =>
    y
      .options({
        model: OPTIONS.model,
        tokenizer: { type: 'string', describe: 'A tokenizer file instead of a model: tokenizer.json (CLIP BPE, or any other model type with tokenizer_config.json beside it), vocab.json (+ merges.txt beside it) or bpe_simple_vocab_16e6.txt.gz.' },
        text: { type: 'string', array: true, describe: 'Text to tokenize (repeatable); without it, lines are read from stdin.' },
        'no-truncate': { type: 'boolean', default: false, describe: 'Fail on text longer than the context instead of truncating it as CLIP does (CLIP ids only).' },
        'as-fed': { type: 'boolean', default: false, describe: 'Print {"ids", "attention_mask"} per line: special tokens, cleaning, truncation and padding to the context length as the text model is fed, by the rules of the tokenizer\'s family read from the files beside it.' },
        language: { type: 'string', describe: 'Language an NLLB tokenizer puts before the text: a FLORES-200 code (fra_Latn) or an ISO 639 code (fr, mapped by configs/languages/flores200.json); required for NLLB, refused for other families.' },
      })
      .conflicts('model', 'tokenizer')
      .check((a) => {
        if (!a.model && !a.tokenizer) throw new UsageError('pass --model DIR or --tokenizer FILE');
        return true;
      })
      .example('$0 tokenize --model fixtures/demo/toy-clip --text "a photo of a red thing."', 'Ids from the demo model\'s tokenizer.')
      .example('cat prompts.txt | $0 tokenize --tokenizer tokenizer.json', 'One line of ids per line of input.')
      .example('$0 tokenize --model siglip/textual --as-fed --text "a photo of a dog."', '{"ids":[…64],"attention_mask":[…64]}: SigLIP\'s row, </s> appended, padded to 64.'),
  handler: async (a: TokenizeArgs) => {
    const target = a.model ?? a.tokenizer!;
    const fed = loadFedTokenizer(target, { language: a.language });
    checkTokenizeFlags(a, fed);
    const line = lineFor(a, fed, () => tokenizerFrom(a));
    if (a.text) {
      for (const t of a.text) process.stdout.write(line(t));
      return;
    }
    for await (const t of createInterface({ input: process.stdin, crlfDelay: Infinity })) process.stdout.write(line(t));
  },
};
