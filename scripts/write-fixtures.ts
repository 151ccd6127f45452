/**
 * Writes fixture models and data into an ignored folder (default `fixtures/`).
 *
 *   npm run fixtures                                   # demo (toy CLIP + colour images) and the tiny random CLIP
 *   npm run fixtures -- --arch vit-b-32                # also the random model with ViT-B/32's real dimensions (~600 MB)
 *   npm run fixtures -- --out /tmp/fx --per-class 50   # elsewhere, with more demo images
 *   npm run fixtures -- --layouts                      # also the toy CLIP and the tiny SigLIP in every export layout (fixtures/layouts/)
 */
import path from 'node:path';
import { CLIP_ARCH_SIZES, type ClipArchSize } from '../src/fixtures/clip-arch.js';
import { writeDemo } from '../src/fixtures/demo.js';
import { fixtureTexts, writeClipArch, writeToyClip } from '../src/fixtures/fixture-models.js';
import { FIXTURE_LAYOUTS } from '../src/fixtures/model-layouts.js';
import { SIGLIP_LAYOUTS, writeSiglipFixture } from '../src/fixtures/siglip-layouts.js';
import { writeMclipFixture, writeNllbFixture } from '../src/fixtures/xlmr-layouts.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { scriptArgs } from './args.js';

const USAGE = `
npm run fixtures                                   # demo (toy CLIP + colour images) and the tiny random CLIP
npm run fixtures -- --arch vit-b-32                # also the random model with ViT-B/32's real dimensions (~600 MB)
npm run fixtures -- --out /tmp/fx --per-class 50   # elsewhere, with more demo images
npm run fixtures -- --layouts                      # also the toy CLIP and the tiny SigLIP in every export layout (fixtures/layouts/)
`;
const values = scriptArgs('write-fixtures', USAGE, {
  out: { type: 'string', default: 'fixtures' },
  arch: { type: 'string', multiple: true, default: ['tiny'] },
  'per-class': { type: 'string', default: '12' },
  seed: { type: 'string', default: '1' },
  layouts: { type: 'boolean', default: false },
});

const sizes = values.arch as string[];
for (const s of sizes) {
  if (!(s in CLIP_ARCH_SIZES)) {
    process.stderr.write(`write-fixtures: unknown --arch ${s}; known: ${Object.keys(CLIP_ARCH_SIZES).join(', ')}\n`);
    process.exit(2);
  }
}
const out = values.out as string;
const t0 = performance.now();
const demo = await writeDemo(path.join(out, 'demo'), Number(values['per-class']));
console.log(`demo model   ${demo.model}\ndemo images  ${demo.root}`);
const texts = fixtureTexts(loadPromptSet('colours').templates);
for (const size of sizes as ClipArchSize[]) {
  const dir = path.join(out, `clip-${size}`);
  const cfg = await writeClipArch(dir, size, texts, { seed: Number(values.seed) });
  console.log(`random CLIP  ${dir} (${size}: vision ${cfg.visionLayers}×${cfg.visionWidth}, text ${cfg.textLayers}×${cfg.textWidth}, embed ${cfg.embedDim})`);
}
{
  const dir = path.join(out, 'siglip-tiny');
  const { config: c } = await writeSiglipFixture(dir, 'immich', texts, { seed: Number(values.seed) });
  console.log(`random SigLIP ${dir} (tiny: vision ${c.visionLayers}×${c.visionWidth}, text ${c.textLayers}×${c.textWidth}, context ${c.contextLength})`);
  const mclip = path.join(out, 'mclip-tiny');
  await writeMclipFixture(mclip, texts, { seed: Number(values.seed) });
  console.log(`random M-CLIP ${mclip} (CLIP ViT + XLM-R-style text tower, Immich layout)`);
  const nllb = path.join(out, 'nllb-clip-tiny');
  await writeNllbFixture(nllb, texts, { seed: Number(values.seed) });
  console.log(`random NLLB-CLIP ${nllb} (Immich layout; tokenize with --language eng_Latn, fra_Latn, deu_Latn, …)`);
}
if (values.layouts) {
  for (const layout of FIXTURE_LAYOUTS) {
    const dir = path.join(out, 'layouts', `toy-${layout}`);
    await writeToyClip(dir, texts, { layout, fp16Variant: true });
    console.log(`toy CLIP     ${dir} (${layout})`);
  }
  for (const layout of SIGLIP_LAYOUTS) {
    const dir = path.join(out, 'layouts', `siglip-${layout}`);
    await writeSiglipFixture(dir, layout, texts, { seed: Number(values.seed) });
    console.log(`tiny SigLIP  ${dir} (${layout})`);
  }
}
console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
