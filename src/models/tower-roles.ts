/**
 * Which input and output of an ONNX graph plays which role (pixels, token ids, attention mask, image
 * embedding, text embedding), whatever the exporter named them. Known names come first, in the order
 * below; a graph using none of them is resolved by shape when exactly one tensor fits the role, and
 * refused (listing the candidates) when several do. A manifest's names are used as given.
 */
import { UsageError } from '../errors.js';
import type { TensorSignature } from './onnx-session.js';

export type TowerKind = 'image' | 'text';

/** Known names by role, each with the exports that use it. */
export const TOWER_ROLE_NAMES = {
  pixels: [
    { name: 'image', source: 'Immich visual/model.onnx; ailia MODELS *-encode_image.onnx' },
    { name: 'pixel_values', source: 'Hugging Face / transformers.js vision_model.onnx and model.onnx; clip-as-service visual.onnx' },
    { name: 'IMAGE', source: 'lakera onnx_clip clip_image_model_*.onnx' },
    { name: 'images', source: 'common torch.onnx.export input name (usls and MobileCLIP exports)' },
  ],
  ids: [
    { name: 'text', source: 'Immich textual/model.onnx (CLIP, SigLIP); ailia MODELS *-encode_text.onnx' },
    { name: 'input_ids', source: 'Hugging Face / transformers.js text_model.onnx and model.onnx; Immich M-CLIP; clip-as-service textual.onnx' },
    { name: 'TEXT', source: 'lakera onnx_clip clip_text_model_*.onnx' },
    { name: 'tokens', source: 'common torch.onnx.export input name' },
  ],
  mask: [{ name: 'attention_mask', source: 'Hugging Face text models; Immich M-CLIP textual/model.onnx; clip-as-service textual.onnx' }],
  imageEmbedding: [
    { name: 'image_embeds', source: 'Hugging Face CLIPVisionModelWithProjection / CLIPModel exports (optimum, transformers.js)' },
    { name: 'embedding', source: 'Immich visual/model.onnx' },
    { name: 'image_embedding', source: 'older Immich visual/model.onnx' },
    { name: 'IMAGE_EMBEDDING', source: 'lakera onnx_clip clip_image_model_*.onnx' },
    { name: 'pooler_output', source: 'transformers.js SigLIP vision_model.onnx (attention-pool head output, not normalised)' },
  ],
  textEmbedding: [
    { name: 'text_embeds', source: 'Hugging Face CLIPTextModelWithProjection / CLIPModel exports (optimum, transformers.js)' },
    { name: 'embedding', source: 'Immich textual/model.onnx' },
    { name: 'text_embedding', source: 'older Immich exports and newer Immich M-CLIP textual/model.onnx' },
    { name: 'TEXT_EMBEDDING', source: 'lakera onnx_clip clip_text_model_*.onnx' },
    { name: 'pooler_output', source: 'transformers.js SigLIP text_model.onnx (last-token pooled and projected, not normalised)' },
  ],
  /** outputs that are never an embedding, even when they are rank-2 floats */
  notEmbedding: [
    { name: 'logits_per_image', source: 'Hugging Face combined model.onnx (scaled similarities)' },
    { name: 'logits_per_text', source: 'Hugging Face combined model.onnx (scaled similarities)' },
    { name: 'last_hidden_state', source: 'Hugging Face / transformers.js encoders (per-token states, rank 3)' },
    { name: 'logit_scale', source: 'open_clip exports that also output the temperature' },
    { name: 'logit_bias', source: 'SigLIP exports that also output the bias' },
  ],
} as const;

const names = (role: keyof typeof TOWER_ROLE_NAMES): string[] => TOWER_ROLE_NAMES[role].map((e) => e.name);

/** What a layout asks for: names it expects (tried first), and whether only those may be used (a manifest). */
export interface TowerRequest {
  inputs: readonly string[];
  outputs: readonly string[];
  mask?: string;
  /** use exactly the names given (a manifest); no role fallback */
  exact?: boolean;
}

export interface ResolvedTowerIO {
  input?: TensorSignature;
  output?: TensorSignature;
  mask?: TensorSignature;
  /** what was resolved by shape rather than by a known name, for `inspect` */
  notes: string[];
}

const FLOAT = ['float32', 'float16'];
const INT = ['int32', 'int64'];

function describe(sigs: readonly TensorSignature[]): string {
  return sigs.map((s) => `${s.name} ${s.type}[${s.shape.join(',')}]`).join(', ');
}

function byNames(sigs: readonly TensorSignature[], wanted: readonly string[]): TensorSignature | undefined {
  for (const n of wanted) {
    const s = sigs.find((x) => x.name === n);
    if (s) return s;
  }
  return undefined;
}

/** A rank-2 float output, or one whose rank the graph leaves open: what an embedding output can be. */
function embeddingShaped(s: TensorSignature): boolean {
  return FLOAT.includes(s.type) && (s.shape.length === 2 || s.shape.length === 0);
}

/**
 * Resolves a tower's input, embedding output and (text) attention mask in the graph's signatures.
 * Returns what it found; `openTower` checks types and ranks and reports what is missing. Refuses
 * a graph with several unnamed candidates for one role: guessing there could score the wrong tensor.
 */
export function resolveTowerIO(ins: readonly TensorSignature[], outs: readonly TensorSignature[], kind: TowerKind, req: TowerRequest, file: string): ResolvedTowerIO {
  const maskNames = [...(req.mask ? [req.mask] : []), ...names('mask')];
  if (req.exact) {
    return {
      input: byNames(ins, req.inputs),
      output: byNames(outs, req.outputs),
      mask: kind === 'text' && req.mask ? ins.find((s) => s.name === req.mask) : undefined,
      notes: [],
    };
  }
  const notes: string[] = [];
  const label = kind === 'image' ? 'image' : 'text';

  let input = byNames(ins, [...req.inputs, ...names(kind === 'image' ? 'pixels' : 'ids')]);
  if (!input) {
    const fits = ins.filter((s) => (kind === 'image' ? FLOAT.includes(s.type) && s.shape.length === 4 : INT.includes(s.type) && s.shape.length === 2 && !maskNames.includes(s.name)));
    if (fits.length > 1) {
      throw new UsageError(`several inputs could be the ${kind === 'image' ? 'pixels' : 'token ids'} and none has a known name: ${describe(fits)}`, {
        file,
        fix: 'name the input in a clip-bench.json manifest (see README)',
      });
    }
    input = fits[0];
    if (input) notes.push(`${label} input: "${input.name}", the graph's only ${kind === 'image' ? 'rank-4 float' : 'rank-2 integer'} input (no known name)`);
  }

  const never = names('notEmbedding');
  // a known name on a tensor of the wrong rank (a per-token output called `embedding`) is not the embedding
  let output = byNames(
    outs.filter((s) => !never.includes(s.name) && embeddingShaped(s)),
    [...req.outputs, ...names(kind === 'image' ? 'imageEmbedding' : 'textEmbedding')],
  );
  if (!output) {
    const fits = outs.filter((s) => embeddingShaped(s) && !never.includes(s.name));
    if (fits.length > 1) {
      throw new UsageError(`several outputs could be the ${label} embedding and none has a known name: ${describe(fits)}`, {
        file,
        fix: 'name the embedding output in a clip-bench.json manifest (see README)',
      });
    }
    output = fits[0];
    if (output) notes.push(`${label} embedding: output "${output.name}", the graph's only rank-2 float output (no known name)`);
  }

  const mask = kind === 'text' ? byNames(ins, maskNames) : undefined;
  return { input, output, mask, notes };
}
