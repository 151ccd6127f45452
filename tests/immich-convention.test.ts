/**
 * `--convention immich`: Immich's own runtime transform, against the goldens that
 * `scripts/immich-transform.py` (PIL + numpy, Immich's code written out) made from tiny images in
 * tests/goldens/immich (README there). Exact float32 equality: both sides do the same float32 operations
 * and clip-bench's resampler is Pillow's byte for byte, so there is nothing to tolerate.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { normalizeToChw, preprocessImage, readOpenClipPreprocessCfg, resizedSize } from '../src/models/preprocess/index.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'goldens', 'immich');
const manifest = JSON.parse(readFileSync(path.join(DIR, 'goldens.json'), 'utf8')) as {
  configs: Record<string, string>;
  images: Record<string, { mode: string; size_wh: [number, number]; tensors: Record<string, string> }>;
};
const configJson = (name: string) => JSON.parse(readFileSync(path.join(DIR, manifest.configs[name]), 'utf8')) as Record<string, unknown>;
const golden = (file: string) => {
  const b = readFileSync(path.join(DIR, file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** Index and values of the first element where two tensors differ (bit patterns, so -0 ≠ 0), or null. */
function firstDifference(a: Float32Array, b: Float32Array): { at: number; got: number; want: number } | null {
  if (a.length !== b.length) return { at: -1, got: a.length, want: b.length };
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) return { at: i, got: a[i], want: b[i] };
  return null;
}

describe('--convention immich reproduces Immich ML transform (goldens from scripts/immich-transform.py)', () => {
  const cases = Object.entries(manifest.images).flatMap(([image, m]) => Object.entries(m.tensors).map(([cfg, tensor]) => ({ image, mode: m.mode, cfg, tensor })));
  it('covers a non-RGB mode of each kind and both resize modes', () => {
    expect(new Set(cases.map((c) => c.mode))).toEqual(new Set(['RGB', 'P', 'LA', 'CMYK']));
    expect(Object.keys(manifest.configs).map((c) => configJson(c).resize_mode).sort()).toEqual(['shortest', 'squash']);
  });

  it.each(cases)('$image ($mode) with the $cfg config: bit-identical', async ({ image, cfg, tensor }) => {
    const { config } = readOpenClipPreprocessCfg(configJson(cfg), manifest.configs[cfg], { convention: 'immich' });
    const got = await preprocessImage(path.join(DIR, image), config);
    expect(firstDifference(got, golden(tensor))).toBeNull();
  });

  it('differs from the reference convention on these images (so the goldens tell the conventions apart)', async () => {
    for (const image of ['p_14x61.png', 'cmyk_40x50.tif']) {
      const { config } = readOpenClipPreprocessCfg(configJson('clip'), 'preprocess_cfg.clip.json');
      const got = await preprocessImage(path.join(DIR, image), config);
      expect(firstDifference(got, golden(manifest.images[image].tensors.clip))).not.toBeNull();
    }
  });
});

describe('Immich geometry and normalisation rules, by hand', () => {
  it("long side int((long/short)·size): 14×61 at 28 is 121 wide, torchvision's int(28·61/14) 122", () => {
    expect((61 / 14) * 28).toBeLessThan(122); // the ratio rounded first
    expect(resizedSize(14, 61, 28, 'shortest', 'immich')).toEqual({ width: 28, height: 121 });
    expect(resizedSize(14, 61, 28, 'shortest', 'torchvision')).toEqual({ width: 28, height: 122 });
    expect(resizedSize(61, 14, 28, 'shortest', 'immich')).toEqual({ width: 121, height: 28 });
  });

  it('normalisation is v/255 · (1/std) − mean/std in float32, written out with Math.fround per numpy op', () => {
    const mean = [0.48145466, 0.4578275, 0.40821073];
    const std = [0.26862954, 0.26130258, 0.27577711];
    const rgb = Uint8Array.from({ length: 256 * 3 }, (_, i) => Math.floor(i / 3));
    const got = normalizeToChw(rgb, 16, mean, std, undefined, 'immich');
    let torchDiffers = 0;
    const torch = normalizeToChw(rgb, 16, mean, std);
    for (let v = 0; v < 256; v++) {
      for (let c = 0; c < 3; c++) {
        const m = Math.fround(mean[c]);
        const s = Math.fround(std[c]);
        const want = Math.fround(Math.fround(Math.fround(v / 255) * Math.fround(1 / s)) - Math.fround(m / s));
        expect(got[c * 256 + v]).toBe(want);
        if (torch[c * 256 + v] !== want) torchDiffers++;
      }
    }
    expect(torchDiffers).toBeGreaterThan(0); // the two orders do differ in the last bit somewhere
  });
});

describe('--convention immich refuses what Immich cannot run', () => {
  const full = { size: 224, interpolation: 'bicubic', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
  it.each(['size', 'interpolation', 'mean', 'std'])('a config without "%s" (Immich reads it without a default)', (key) => {
    const cfg: Record<string, unknown> = { ...full };
    delete cfg[key];
    expect(() => readOpenClipPreprocessCfg(cfg, '/m/visual/preprocess_cfg.json', { convention: 'immich' })).toThrow(UsageError);
    expect(() => readOpenClipPreprocessCfg(cfg, '/m/visual/preprocess_cfg.json')).not.toThrow(); // open_clip has defaults
  });

  it('resize_mode longest, which Immich raises on', () => {
    expect(() => readOpenClipPreprocessCfg({ ...full, resize_mode: 'longest' }, 'f.json', { convention: 'immich' })).toThrow(/longest/);
  });

  it('sizes 224–512 are read as stated', () => {
    for (const size of [224, 256, 384, 512]) {
      const { config, sources } = readOpenClipPreprocessCfg({ ...full, size: [size, size], resize_mode: 'squash' }, 'f.json', { convention: 'immich', label: 'visual/preprocess_cfg.json' });
      expect(config.size).toBe(size);
      expect(sources.size).toBe('visual/preprocess_cfg.json "size"');
      expect(sources.pipeline).toMatch(/^immich:/);
    }
  });
});
