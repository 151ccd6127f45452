/**
 * clip-bench beside the PyTorch reference pipeline on the same random-weight CLIP ViT and the same JPEGs, in one
 * run: the whole `clip-bench eval` command (startup included, caches off) against `scripts/peer-pytorch.py`
 * (OpenAI's transform + a DataLoader with worker processes + the image tower in PyTorch from the same weights),
 * each timed from process start to exit, and their embeddings compared.
 *
 *   npm run build && npm run bench:pytorch -- [--arch vit-b-32|tiny] [--images 2100] [--workers 2] [--python /usr/bin/python3]
 *
 * Needs Debian's python3-torch, python3-torchvision, python3-pil and an optimised BLAS (`apt-get install python3-torch
 * python3-torchvision python3-pil libopenblas0-pthread`: without the last, torch runs on the reference BLAS). Debian's OpenBLAS 0.3.21 runs generic kernels on recent CPUs, so PyTorch
 * gets OPENBLAS_CORETYPE=SKYLAKEX (AVX-512) or HASWELL (AVX2) as the CPU has them, in its command only.
 */
import os from 'node:os';
import { runPeerPytorch, type PeerArch } from '../src/eval/peer-pytorch.js';
import { scriptArgs } from './args.js';

const USAGE = 'npm run build && npm run bench:pytorch -- [--arch vit-b-32|tiny] [--images 2100] [--workers 2] [--batch-size 32] [--python /usr/bin/python3] [--json]';
const values = scriptArgs('peer-pytorch', USAGE, {
  arch: { type: 'string', default: 'vit-b-32' },
  images: { type: 'string', default: '2100' },
  workers: { type: 'string', default: String(Math.min(2, os.availableParallelism())) },
  'batch-size': { type: 'string', default: '32' },
  python: { type: 'string', default: '/usr/bin/python3' },
  json: { type: 'boolean', default: false },
});
const r = await runPeerPytorch({
  arch: values.arch as PeerArch,
  images: Number(values.images),
  workers: Number(values.workers),
  batchSize: Number(values['batch-size']),
  python: values.python,
  log: (l) => console.log(l),
});
if (values.json) console.log(JSON.stringify(r));
