/** Top-k scoring, pure functions over logits. */

/**
 * Indices of the k largest values of one row, best first. Ties go to the lower index (a stable sort
 * of the row, as `torch.topk` on CPU does in practice for equal values).
 * @example topK(Float32Array.from([0.1, 0.9, 0.5]), 2) // → [1, 2]
 */
export function topK(row: ArrayLike<number>, k: number): number[] {
  const kk = Math.min(k, row.length);
  const best: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (Number.isNaN(v)) continue;
    if (best.length < kk || v > row[best[best.length - 1]]) {
      let pos = best.length < kk ? best.length : kk - 1;
      if (best.length < kk) best.push(i);
      while (pos > 0 && row[best[pos - 1]] < v) {
        best[pos] = best[pos - 1];
        pos--;
      }
      best[pos] = i;
    }
  }
  return best;
}

/** Top-k accuracy counts for predictions (best-first class lists); failed samples (null) count as wrong. */
export function topKCorrect(predictions: readonly (readonly number[] | null)[], labels: ArrayLike<number>, k: number): number {
  let correct = 0;
  predictions.forEach((p, i) => {
    if (p && p.slice(0, k).includes(labels[i])) correct++;
  });
  return correct;
}

/** Standard error of an accuracy over n Bernoulli trials (lm-eval reports this beside each mean). */
export function accuracyStderr(accuracy: number, n: number): number {
  return n > 1 ? Math.sqrt((accuracy * (1 - accuracy)) / (n - 1)) : 0;
}

/**
 * Softmax probability of class `c` over one row of logits, in float64 with the max subtracted (no overflow
 * at logit scale 100). The confidence a reliability diagram and ECE use.
 * @example softmaxTop(Float32Array.from([0, Math.log(3)]), 1) // → 0.75
 */
export function softmaxTop(row: ArrayLike<number>, c: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return Math.exp(row[c] - max) / sum;
}
