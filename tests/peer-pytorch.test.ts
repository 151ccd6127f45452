/**
 * The PyTorch peer's plumbing: the weights file peer-pytorch.py reads, the OpenBLAS kernel choice, and (where
 * Debian's python3-torch is installed) that the PyTorch pipeline computes the same embeddings as clip-bench.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIP_ARCH_SIZES, randomClipWeights } from '../src/fixtures/clip-arch.js';
import { openblasCoretype, writeVisualWeights } from '../src/eval/peer-pytorch.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-peer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the PyTorch peer', () => {
  it('writes every image-tower tensor once, back to back, with its shape', () => {
    const w = randomClipWeights({ ...CLIP_ARCH_SIZES.tiny, vocabSize: 10 }, 1);
    writeVisualWeights(tmp, w);
    const m = JSON.parse(readFileSync(path.join(tmp, 'weights.json'), 'utf8')) as { tensors: { name: string; shape: number[]; offset: number }[] };
    const sizes = m.tensors.map((t) => t.shape.reduce((a, b) => a * b, 1));
    m.tensors.forEach((t, i) => expect(t.offset, t.name).toBe(sizes.slice(0, i).reduce((a, b) => a + b, 0)));
    expect(statSync(path.join(tmp, 'weights.f32')).size).toBe(4 * sizes.reduce((a, b) => a + b, 0));
    expect(m.tensors.filter((t) => t.name.startsWith('blocks.')).length).toBe(12 * CLIP_ARCH_SIZES.tiny.visionLayers);
    const bytes = readFileSync(path.join(tmp, 'weights.f32'));
    const conv = new Float32Array(bytes.buffer, bytes.byteOffset, 4);
    expect([...conv]).toEqual([...w.visual.conv.subarray(0, 4)]);
  });

  it('OpenBLAS kernels: AVX-512 → SKYLAKEX, AVX2 → HASWELL, else unset', () => {
    expect(openblasCoretype('fpu sse2 avx2 avx512f')).toBe('SKYLAKEX');
    expect(openblasCoretype('fpu sse2 avx avx2')).toBe('HASWELL');
    expect(openblasCoretype('fpu sse2')).toBeNull();
  });
});

const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision, PIL'], { encoding: 'utf8' }).status === 0;
describe.skipIf(!torch)('the PyTorch pipeline against clip-bench (needs python3-torch, python3-torchvision, python3-pil)', () => {
  it('the same random-weight ViT on the same JPEGs gives the same embeddings (cosine ≥ 0.9999)', async () => {
    const { runPeerPytorch } = await import('../src/eval/peer-pytorch.js');
    const r = await runPeerPytorch({ arch: 'tiny', images: 16, workers: 1, batchSize: 8, python: '/usr/bin/python3' });
    expect(r.compared).toBe(16);
    expect(r.minCosine).toBeGreaterThan(0.9999);
  }, 300_000);
});
if (!torch) console.log('tests/peer-pytorch.test.ts: /usr/bin/python3 has no torch/torchvision/PIL: the agreement check is skipped (apt-get install python3-torch python3-torchvision python3-pil)');
