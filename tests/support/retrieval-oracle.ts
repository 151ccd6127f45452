/**
 * Retrieval ranks and CLIP_benchmark's metrics by brute force from a run's stored rows: float64 dot products,
 * ties to the lower index, a failed image never retrieved and its queries misses at the worst rank — written
 * from the definitions, independently of rankBlock / scoreRetrieval.
 */
import type { Db } from '../../src/store/db.js';
import { readCaptions, readImages } from '../../src/store/retrieval.js';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, k) => s + x * b[k], 0);

/** Ranks and metrics by brute force (float64 dot products, ties to the lower index) from a run's stored rows. */
export function retrievalOracle(db: Db, runId: number, ks: number[]) {
  const ims = readImages(db, runId);
  const caps = readCaptions(db, runId);
  const pos = new Map(ims.map((im, i) => [im.idx, i]));
  const ok = ims.map((im) => im.embedding !== null);
  const t2i = caps.map((c) => {
    const target = pos.get(c.image)!;
    if (!ok[target]) return { rank: ims.length, failed: true };
    const s = ims.map((im) => (im.embedding ? dot(c.embedding, im.embedding) : -Infinity));
    return { rank: 1 + s.filter((v, j) => v > s[target] || (v === s[target] && j < target)).length, failed: false };
  });
  const i2t = ims.map((im, i) => {
    const mine = caps.map((c, j) => (c.image === im.idx ? j : -1)).filter((j) => j >= 0);
    if (!ok[i]) return { rank: caps.length - mine.length + 1, failed: true };
    const s = caps.map((c) => dot(im.embedding!, c.embedding));
    const best = mine.reduce((b, j) => (s[j] > s[b] ? j : b), mine[0]);
    return { rank: 1 + s.filter((v, j) => v > s[best] || (v === s[best] && j < best)).length, failed: false };
  });
  const recall = (qs: { rank: number; failed: boolean }[], k: number) => qs.filter((q) => !q.failed && q.rank <= k).length / qs.length;
  const median = (r: number[]) => {
    const s = [...r].sort((a, b) => a - b);
    return Math.floor(s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2);
  };
  const mean = (r: number[]) => r.reduce((a, b) => a + b, 0) / r.length;
  const values: Record<string, number> = {};
  for (const k of ks) {
    values[`image_retrieval_recall@${k}`] = recall(t2i, k);
    values[`text_retrieval_recall@${k}`] = recall(i2t, k);
  }
  values.image_retrieval_mean_rank = mean(t2i.map((q) => q.rank));
  values.image_retrieval_median_rank = median(t2i.map((q) => q.rank));
  values.text_retrieval_mean_rank = mean(i2t.map((q) => q.rank));
  values.text_retrieval_median_rank = median(i2t.map((q) => q.rank));
  values['mean_recall@1'] = (values['image_retrieval_recall@1'] + values['text_retrieval_recall@1']) / 2;
  return { values, t2i: t2i.map((q) => q.rank), i2t: i2t.map((q) => q.rank) };
}

