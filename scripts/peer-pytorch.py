#!/usr/bin/env python3
"""The PyTorch reference pipeline clip-bench is measured against (npm run bench:pytorch; scripts/peer-pytorch.ts
runs it): OpenAI's CLIP image transform (clip/clip.py _transform: Resize(BICUBIC) -> CenterCrop -> RGB ->
ToTensor -> Normalize) over a torchvision-style DataLoader with worker processes, and the random-weight CLIP
ViT image tower (src/fixtures/clip-arch.ts) written in PyTorch from the same weights.

    peer-pytorch.py --weights DIR --images DIR [--batch-size 32] [--workers 2] [--threads 2] [--embeddings FILE]

Prints one JSON line: images, seconds (the image loop: DataLoader and model), startupSeconds (from process start
to the loop: imports, weights, the model), imagesPerSecond of the loop. Needs Debian's python3-torch,
python3-torchvision and python3-pil.
"""
import argparse
import json
import os
import time

T0 = time.perf_counter()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402
from torchvision import transforms  # noqa: E402

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


def openai_transform(size):
    """clip/clip.py _transform(n_px)."""
    return transforms.Compose([
        transforms.Resize(size, interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.CenterCrop(size),
        lambda image: image.convert('RGB'),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ])


class ImageFiles(Dataset):
    """Every image under a folder of class folders, in sorted order (torchvision ImageFolder's)."""

    def __init__(self, root, transform):
        self.files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.lower().endswith(('.jpg', '.jpeg', '.png')))
        self.transform = transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        with Image.open(self.files[i]) as im:
            return self.transform(im)


class ClipVisual(torch.nn.Module):
    """clip/model.py VisionTransformer with the fixture's weights; linear weights are stored [in, out]."""

    def __init__(self, w, c):
        super().__init__()
        self.w, self.c = w, c

    def block(self, x, p, heads):
        n, length, width = x.shape
        d = width // heads
        h = F.layer_norm(x, (width,), p['ln1.g'], p['ln1.b'], 1e-5)
        q, k, v = (h @ p['qkvW'] + p['qkvB']).split(width, dim=-1)
        split = lambda t: t.reshape(n, length, heads, d).transpose(1, 2)
        attn = torch.softmax(split(q) @ split(k).transpose(-1, -2) / d ** 0.5, dim=-1)
        merged = (attn @ split(v)).transpose(1, 2).reshape(n, length, width)
        x = x + merged @ p['outW'] + p['outB']
        h2 = F.layer_norm(x, (width,), p['ln2.g'], p['ln2.b'], 1e-5)
        fc = h2 @ p['fcW'] + p['fcB']
        return x + (fc * torch.sigmoid(1.702 * fc)) @ p['projW'] + p['projB']

    def forward(self, images):
        w, c = self.w, self.c
        width, patch = c['visionWidth'], c['patchSize']
        x = F.conv2d(images, w['conv'], stride=patch).flatten(2).transpose(1, 2)
        cls = w['classEmb'].reshape(1, 1, width).expand(x.shape[0], 1, width)
        x = torch.cat([cls, x], dim=1) + w['posEmb']
        x = F.layer_norm(x, (width,), w['lnPre.g'], w['lnPre.b'], 1e-5)
        for i in range(c['visionLayers']):
            x = self.block(x, {k.split('.', 2)[2]: v for k, v in w.items() if k.startswith(f'blocks.{i}.')}, c['visionHeads'])
        pooled = F.layer_norm(x[:, 0], (width,), w['lnPost.g'], w['lnPost.b'], 1e-5)
        e = pooled @ w['proj']
        return e / e.norm(dim=-1, keepdim=True)


def load_weights(folder):
    manifest = json.load(open(os.path.join(folder, 'weights.json')))
    raw = np.fromfile(os.path.join(folder, 'weights.f32'), dtype='<f4')
    tensors = {t['name']: torch.from_numpy(raw[t['offset']:t['offset'] + int(np.prod(t['shape']))].reshape(t['shape']).copy()) for t in manifest['tensors']}
    return tensors, manifest['config']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--weights', required=True)
    ap.add_argument('--images', required=True)
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--embeddings', help='write every embedding here, float32 row-major')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    weights, config = load_weights(a.weights)
    model = ClipVisual(weights, config).eval()
    data = ImageFiles(a.images, openai_transform(config['imageSize']))
    loader = DataLoader(data, batch_size=a.batch_size, num_workers=a.workers, shuffle=False)
    out = []
    startup = time.perf_counter() - T0
    t0 = time.perf_counter()
    with torch.inference_mode():
        for batch in loader:
            out.append(model(batch))
    seconds = time.perf_counter() - t0
    if a.embeddings:
        torch.cat(out).numpy().astype('<f4').tofile(a.embeddings)
    print(json.dumps({'images': len(data), 'seconds': seconds, 'startupSeconds': startup, 'imagesPerSecond': len(data) / seconds, 'threads': torch.get_num_threads(), 'workers': a.workers, 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
