/**
 * The zero-shot classifier, as OpenAI's notebook and open_clip's `zero_shot_classifier.py` build it:
 * for each class, L2-normalise each prompt's text embedding, average them, and normalise again.
 */

/** 1 / the L2 norm of the row of `dim` values at `off` (0 for a zero row). */
function inverseNorm(rows: Float32Array, off: number, dim: number): number {
  let sq = 0;
  for (let k = 0; k < dim; k++) sq += rows[off + k] * rows[off + k];
  return sq > 0 ? 1 / Math.sqrt(sq) : 0;
}

/** Scales each row of `rows` ([n, dim], row-major) to unit L2 norm, in place; returns `rows`. */
export function normaliseRows(rows: Float32Array, dim: number): Float32Array {
  for (let off = 0; off < rows.length; off += dim) {
    const inv = inverseNorm(rows, off, dim);
    for (let k = 0; k < dim; k++) rows[off + k] *= inv;
  }
  return rows;
}

/**
 * @param textEmbeddings [nPrompts, dim] embeddings of every prompt, row-major
 * @param promptClass    class index of each prompt (length nPrompts); a class may own any number ≥ 1 of prompts
 * @returns              [nClasses, dim] unit-norm class weights
 * @example
 * buildClassifier(Float32Array.from([3, 4, 0, 2]), [0, 0], 2, 1)
 * // → Float32Array [0.3162, 0.9487]: (0.6, 0.8) and (0, 1) average to (0.3, 0.9), renormalised
 */
export function buildClassifier(textEmbeddings: Float32Array, promptClass: ArrayLike<number>, dim: number, nClasses: number): Float32Array {
  if (textEmbeddings.length !== promptClass.length * dim) {
    throw new Error(`buildClassifier: ${textEmbeddings.length} values for ${promptClass.length} prompts of dim ${dim}`);
  }
  const sums = new Float64Array(nClasses * dim);
  const counts = new Int32Array(nClasses);
  for (let p = 0; p < promptClass.length; p++) {
    const c = promptClass[p];
    counts[c]++;
    // each row at unit norm exactly as normaliseRows leaves it (the product rounded to float32), without
    // a copy of all the rows: ImageNet's 80,000 ViT-B/32 prompts are 164 MB
    const off = p * dim;
    const inv = inverseNorm(textEmbeddings, off, dim);
    for (let k = 0; k < dim; k++) sums[c * dim + k] += Math.fround(textEmbeddings[off + k] * inv);
  }
  const out = new Float32Array(nClasses * dim);
  for (let c = 0; c < nClasses; c++) {
    if (counts[c] === 0) throw new Error(`buildClassifier: class ${c} has no prompts`);
    for (let k = 0; k < dim; k++) out[c * dim + k] = sums[c * dim + k] / counts[c];
  }
  return normaliseRows(out, dim);
}

/** CLIP's logit scale for zero-shot evaluation (exp of the learned temperature, clamped at 100). */
export const LOGIT_SCALE = 100;

/**
 * logits = scale · image · classifierᵀ
 * @param images     [n, dim] unit-norm image embeddings
 * @param classifier [nClasses, dim]
 * @returns          [n, nClasses]
 */
export function zeroShotLogits(images: Float32Array, classifier: Float32Array, dim: number, scale = LOGIT_SCALE): Float32Array {
  const n = images.length / dim;
  const nClasses = classifier.length / dim;
  const out = new Float32Array(n * nClasses);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nClasses; c++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += images[i * dim + k] * classifier[c * dim + k];
      out[i * nClasses + c] = scale * s;
    }
  }
  return out;
}

/**
 * Scores dataset classes from classifier classes: each dataset class takes the max logit over its
 * group (ObjectNet: over the ImageNet classes mapped to it; a subset: a single class each).
 * @param logits [n, nPromptClasses]
 * @returns      [n, groups.length]
 */
export function groupMaxLogits(logits: Float32Array, nPromptClasses: number, groups: readonly (readonly number[])[]): Float32Array {
  const n = logits.length / nPromptClasses;
  const out = new Float32Array(n * groups.length);
  for (let i = 0; i < n; i++) {
    groups.forEach((g, c) => {
      let best = -Infinity;
      for (const j of g) best = Math.max(best, logits[i * nPromptClasses + j]);
      out[i * groups.length + c] = best;
    });
  }
  return out;
}
