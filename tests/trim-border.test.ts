import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { OPENAI_CLIP_CONFIG, preprocessImage, trimBorder } from '../src/models/preprocess/index.js';

describe('trimBorder (ObjectNet\'s 2-pixel border crop)', () => {
  it('cuts b pixels from every edge, keeping the inside byte for byte', () => {
    // 5×4 grey image with values 10·y + x
    const data = Uint8Array.from({ length: 20 }, (_, i) => 10 * Math.floor(i / 5) + (i % 5));
    const t = trimBorder({ width: 5, height: 4, channels: 1, mode: 'L', data }, 1);
    expect([t.width, t.height]).toEqual([3, 2]);
    expect(Array.from(t.data)).toEqual([11, 12, 13, 21, 22, 23]);
  });

  it('preprocessing with trimBorder equals preprocessing the image cropped beforehand', async () => {
    const w = 300;
    const h = 260;
    const px = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i++) {
      const x = i % w;
      const y = Math.floor(i / w);
      const border = x < 2 || y < 2 || x >= w - 2 || y >= h - 2;
      px.set(border ? [255, 0, 0] : [(x * 7) % 256, (y * 5) % 256, (x + y) % 256], i * 3);
    }
    const full = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
    const inner = await sharp(full).extract({ left: 2, top: 2, width: w - 4, height: h - 4 }).png().toBuffer();
    const a = await preprocessImage(full, { ...OPENAI_CLIP_CONFIG, trimBorder: 2 });
    const b = await preprocessImage(inner, OPENAI_CLIP_CONFIG);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const untrimmed = await preprocessImage(full, OPENAI_CLIP_CONFIG);
    expect(Buffer.from(untrimmed.buffer).equals(Buffer.from(b.buffer))).toBe(false);
  });
});
