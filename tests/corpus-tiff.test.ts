/**
 * Every TIFF among the corpus cases (Pillow's Tests/images where clip-bench once differed from
 * PIL 9.4 + torchvision 0.14): our tensor is byte-identical to the reference tensor, or the file
 * is refused with the precise "unsupported TIFF variant" reason listed below — never "corrupt",
 * never a silent difference.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { reference } from './support/reference.js';
import { preprocessImage } from '../src/models/preprocess/index.js';

const casesRef = reference('corpus-cases/cases.json', 'TIFF corpus parity against PIL 9.4');
const casesDir = path.dirname(casesRef.path);
const haveCases = casesRef.present;

interface Case {
  file: string;
  pil_format: string;
  pil_mode: string;
  tensor_sha256: string;
}

/** The files we refuse, each with the reason it must give (README, Exactness: TIFF behaviours). */
const EXPECTED_REFUSALS: Record<string, string> = {
  'hopper.Lab.tif': 'unsupported TIFF variant: CIELAB colour',
  'lab.tif': 'unsupported TIFF variant: CIELAB colour',
  'lab-green.tif': 'unsupported TIFF variant: CIELAB colour',
  'lab-red.tif': 'unsupported TIFF variant: CIELAB colour',
  'hopper_lzma.tif': 'unsupported TIFF variant: LZMA compression (34925)',
  'old-style-jpeg-compression.tif': 'unsupported TIFF variant: old-style JPEG compression (6)',
  'old-style-jpeg-compression-no-samplesperpixel.tif': 'unsupported TIFF variant: old-style JPEG compression (6)',
  'rdf.tif': 'unsupported TIFF variant: palette with alpha (PA',
};

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const cases: Case[] = haveCases ? (JSON.parse(readFileSync(path.join(casesDir, 'cases.json'), 'utf8')).cases as Case[]).filter((c) => c.pil_format === 'TIFF') : [];

describe.skipIf(!haveCases)('TIFF corpus cases: byte-identical to PIL 9.4 + torchvision 0.14, or refused with a precise reason', () => {
  it('the table of refusals names only files that are in the corpus', () => {
    expect(cases.length).toBeGreaterThanOrEqual(33);
    const names = new Set(cases.map((c) => path.basename(c.file)));
    expect(Object.keys(EXPECTED_REFUSALS).filter((f) => !names.has(f))).toEqual([]);
  });

  it.each(cases.map((c) => [path.basename(c.file), c] as const))('%s', async (name, c) => {
    const file = path.join(casesDir, c.file);
    const refusal = EXPECTED_REFUSALS[name];
    let tensor: Float32Array | undefined;
    let error: unknown;
    try {
      tensor = await preprocessImage(file);
    } catch (err) {
      error = err;
    }
    if (refusal) {
      expect(error, `${name} (PIL mode ${c.pil_mode}) should be refused`).toBeInstanceOf(UsageError);
      const e = error as UsageError;
      expect(e.message).toContain(refusal);
      expect(e.message).not.toMatch(/corrupt/i);
      expect(e.file).toBe(file);
      return;
    }
    if (error) throw error;
    const got = sha256(new Uint8Array(tensor!.buffer, tensor!.byteOffset, tensor!.byteLength));
    if (got !== c.tensor_sha256) {
      const diff = maxAbsDiff(tensor!, readF32(`${file}.f32`));
      expect.fail(`${name} (PIL mode ${c.pil_mode}) differs from the reference tensor: max |diff| ${diff.toFixed(4)}`);
    }
  });
});
