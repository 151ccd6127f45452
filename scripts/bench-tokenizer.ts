/**
 * Tokenizer throughput on ImageNet-sized prompt sets (1000 classes × 80 templates ≈ 80,000 texts):
 * the texts of the reference file `clip-bpe/tokens-public.jsonl.gz` when it is there, otherwise
 * synthetic prompts. One core, after a JIT warm-up on a separate tokenizer, timing
 * `tokenizeBatch` on a fresh tokenizer (cold BPE cache, what an evaluation run sees) and again
 * on the same one (warm cache).
 *
 *   npm run build && node dist/scripts/bench-tokenizer.js [--tokenizer FILE_OR_DIR] [--dtype int64]
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { referenceDir } from '../src/paths.js';
import { loadBpeVocabGz, loadTokenizerFromDir, loadTokenizerJson, type ClipTokenizer, type TokenDtype } from '../src/models/tokenizer/index.js';

const BPE_DIR = path.join(referenceDir, 'clip-bpe');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function loadTokenizer(): ClipTokenizer {
  const given = arg('tokenizer');
  if (given) {
    if (statSync(given).isDirectory()) return loadTokenizerFromDir(given);
    return given.endsWith('.gz') ? loadBpeVocabGz(given) : loadTokenizerJson(given);
  }
  const json = path.join(BPE_DIR, 'tokenizer.json');
  if (existsSync(json)) return loadTokenizerJson(json);
  console.error(`no tokenizer: ${json} is absent; pass --tokenizer with a tokenizer.json, bpe_simple_vocab_16e6.txt.gz or model folder`);
  process.exit(2);
}

/** 1000 made-up class names × 80 templates, when the reference texts are not available. */
function syntheticPrompts(): string[] {
  const syllables = ['ka', 'lo', 'mi', 'ren', 'tus', 'vel', 'or', 'quin', 'sha', 'bri', 'dor', 'fen'];
  const templates = Array.from({ length: 80 }, (_, i) => `a ${['photo', 'sketch', 'painting', 'rendering'][i % 4]} of ${['a', 'the', 'my', 'one'][(i >> 2) % 4]} ${['', 'small ', 'large ', 'blurry ', 'bright '][(i >> 4) % 5]}{}.`);
  const classes = Array.from({ length: 1000 }, (_, i) => {
    const s = (k: number) => syllables[(i * 7 + k * 5 + (i >> k)) % syllables.length];
    return i % 3 === 0 ? `${s(0)}${s(1)} ${s(2)}${s(3)}` : `${s(0)}${s(1)}${s(2)}`;
  });
  return classes.flatMap((c) => templates.map((t) => t.replace('{}', c)));
}

function prompts(): { texts: string[]; from: string } {
  const file = path.join(BPE_DIR, 'tokens-public.jsonl.gz');
  if (!existsSync(file)) return { texts: syntheticPrompts(), from: 'synthetic prompts (reference file absent)' };
  const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n').filter((l) => l.length > 0);
  return { texts: lines.map((l) => (JSON.parse(l) as { text: string }).text), from: file };
}

function time(tok: ClipTokenizer, texts: string[], dtype: TokenDtype): number {
  const t0 = performance.now();
  const batch = tok.tokenizeBatch(texts, { dtype });
  const ms = performance.now() - t0;
  if (batch.dims[0] !== texts.length) throw new Error('batch size mismatch');
  return ms;
}

const dtype = (arg('dtype') ?? 'int32') as TokenDtype;
const { texts, from } = prompts();
console.log(`${texts.length} texts from ${from}`);

// Warm-up: let the JIT compile the hot paths, on a tokenizer whose cache is then thrown away.
const warm = loadTokenizer();
time(warm, texts.slice(0, 5000), dtype);

const tok = loadTokenizer();
const cold = time(tok, texts, dtype);
console.log(`tokenized ${texts.length} texts in ${cold.toFixed(0)} ms (${Math.round(texts.length / (cold / 1000))} texts/s) — fresh tokenizer, cold BPE cache, dtype ${dtype}`);
const again = time(tok, texts, dtype);
console.log(`tokenized ${texts.length} texts in ${again.toFixed(0)} ms (${Math.round(texts.length / (again / 1000))} texts/s) — same tokenizer again, warm BPE cache`);
